"""Authorization Server metadata (RFC 8414, OIDC Discovery): the candidate URLs, the exact ``issuer``
check that stops a mix-up, and the endpoint resolver's refusal of discovered plain-http endpoints."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import httpx
import pytest
import respx
from hypothesis import event, given, settings
from hypothesis import strategies as st

from oscal_mcp_auth.discovery import EndpointResolver, fetch_metadata, metadata_urls
from oscal_mcp_auth.http import FetchError

ISSUER = "https://as.example.com/tenant"
RFC8414 = "https://as.example.com/.well-known/oauth-authorization-server/tenant"
OIDC = "https://as.example.com/tenant/.well-known/openid-configuration"
COMPAT = "https://as.example.com/.well-known/openid-configuration/tenant"
LOOPBACK_ISSUER = "http://127.0.0.1:9000"
LOOPBACK_METADATA = "http://127.0.0.1:9000/.well-known/oauth-authorization-server"

pytestmark = pytest.mark.anyio


def test_the_candidates_are_rfc8414_then_oidc_then_the_compat_form() -> None:
    assert metadata_urls(ISSUER) == [RFC8414, OIDC, COMPAT]
    assert metadata_urls(ISSUER + "/") == [RFC8414, OIDC, COMPAT]
    assert metadata_urls("https://as.example.com/realmX")[0] == (
        "https://as.example.com/.well-known/oauth-authorization-server/realmX"
    )  # only the trailing slash goes
    root = "https://as.example.com/.well-known/"
    assert metadata_urls("https://as.example.com") == [
        root + "oauth-authorization-server",
        root + "openid-configuration",
        root + "openid-configuration",
    ]


@respx.mock
async def test_an_issuer_without_a_path_asks_each_distinct_url_once() -> None:
    first = respx.get("https://as.example.com/.well-known/oauth-authorization-server").respond(404)
    second = respx.get("https://as.example.com/.well-known/openid-configuration").respond(404)
    async with httpx.AsyncClient() as client:
        with pytest.raises(FetchError) as refused:
            await fetch_metadata(client, "https://as.example.com")
    assert (first.call_count, second.call_count) == (1, 1)
    assert refused.value.reason == "no_metadata"


@respx.mock
async def test_the_first_usable_document_wins_and_unusable_ones_are_named() -> None:
    respx.get(RFC8414).respond(404)
    respx.get(OIDC).respond(200, json=["not", "an", "object"])
    compat = respx.get(COMPAT).respond(200, json={"issuer": ISSUER, "jwks_uri": "https://as.example.com/jwks"})
    async with httpx.AsyncClient() as client:
        assert (await fetch_metadata(client, ISSUER))["jwks_uri"] == "https://as.example.com/jwks"
    assert compat.call_count == 1


@respx.mock
async def test_no_usable_document_lists_why_each_candidate_failed() -> None:
    respx.get(RFC8414).respond(404, json={"error": "not found"})
    respx.get(OIDC).respond(200, text="<html>")
    respx.get(COMPAT).respond(500, json={"issuer": ISSUER})
    async with httpx.AsyncClient() as client:
        with pytest.raises(FetchError) as refused:
            await fetch_metadata(client, ISSUER)
    assert refused.value.reason == "no_metadata"
    assert refused.value.detail == (
        f"no authorization server metadata found: {RFC8414}: HTTP 404; {OIDC}: not_json; {COMPAT}: HTTP 500"
    )


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
@respx.mock
async def test_an_unreachable_server_fails_at_once_without_trying_the_other_candidates(failure: Exception) -> None:
    respx.get(RFC8414).mock(side_effect=failure)
    later = respx.get(OIDC).respond(200, json={"issuer": ISSUER})
    async with httpx.AsyncClient() as client:
        with pytest.raises(FetchError) as refused:
            await fetch_metadata(client, ISSUER)
    assert refused.value.reason in ("unreachable", "timeout")
    assert later.call_count == 0


@pytest.mark.parametrize(
    "document",
    [
        {"issuer": ISSUER + "/"},  # RFC 8414 section 3.3: identical, so a trailing slash differs
        {"issuer": "https://as.example.com"},
        {"jwks_uri": "https://as.example.com/jwks"},  # no issuer at all
        {"issuer": None},
        {"issuer": [ISSUER]},
    ],
)
@respx.mock
async def test_metadata_naming_another_issuer_or_none_is_refused(document: dict[str, Any]) -> None:
    respx.get(RFC8414).respond(200, json=document)
    later = respx.get(OIDC).respond(200, json={"issuer": ISSUER})
    async with httpx.AsyncClient() as client:
        with pytest.raises(FetchError) as refused:
            await fetch_metadata(client, ISSUER)
    assert refused.value.reason == "issuer_mismatch"
    assert refused.value.detail.startswith(f"{RFC8414} names issuer {document.get('issuer')!r}, not the configured")
    assert later.call_count == 0  # a mix-up stops discovery; it is not "try the next document"


def near_misses(issuer: str) -> list[str]:
    return [
        issuer + "/",
        issuer.rstrip("/"),
        issuer.upper(),
        issuer.replace("https://", "http://"),
        issuer.replace(".com", ".com:443"),
        " " + issuer,
        issuer + "#",
        issuer.replace("tenant", "tenant/x"),
    ]


@settings(max_examples=60, deadline=None)
@given(configured=st.sampled_from([ISSUER, ISSUER + "/"]), data=st.data())
def test_metadata_is_accepted_exactly_when_its_issuer_is_the_configured_string(
    configured: str, data: st.DataObject
) -> None:
    """RFC 8414 section 3.3: the metadata's issuer is compared as an exact string, no normalisation."""

    found = data.draw(st.one_of(st.just(configured), st.sampled_from(near_misses(configured))))
    expected_accept = found == configured  # the policy, written separately: plain string equality

    async def run() -> None:
        with respx.mock:
            respx.get(RFC8414).respond(200, json={"issuer": found})
            async with httpx.AsyncClient() as client:
                if expected_accept:
                    event("accepted")
                    assert (await fetch_metadata(client, configured))["issuer"] == configured
                    return
                event("refused")
                with pytest.raises(FetchError) as refused:
                    await fetch_metadata(client, configured)
                assert refused.value.reason == "issuer_mismatch"

    anyio.run(run)


def resolver(client: httpx.AsyncClient, issuer: str | None = LOOPBACK_ISSUER, **options: Any) -> EndpointResolver:
    return EndpointResolver(client, issuer, "jwks_uri", hint="set OSCAL_AUTH_JWT_JWKS_URI", **options)


@pytest.mark.parametrize(
    ("endpoint", "allow_insecure_http", "accepted"),
    [
        ("http://keys.example.com/jwks", False, False),  # a loopback issuer does not vouch for remote http
        ("http://10.0.0.5/jwks", False, False),
        ("http://127.0.0.1:9000/jwks", False, True),
        ("http://[::1]:9000/jwks", False, True),
        ("https://keys.example.com/jwks", False, True),
        ("http://keys.example.com/jwks", True, True),
    ],
)
@respx.mock
async def test_a_discovered_plain_http_endpoint_must_itself_be_loopback(
    endpoint: str, allow_insecure_http: bool, accepted: bool
) -> None:
    respx.get(LOOPBACK_METADATA).respond(200, json={"issuer": LOOPBACK_ISSUER, "jwks_uri": endpoint})
    async with httpx.AsyncClient() as client:
        found = resolver(client, allow_insecure_http=allow_insecure_http)
        if accepted:
            assert await found.resolve() == endpoint
            return
        with pytest.raises(FetchError) as refused:
            await found.resolve()
    assert refused.value.reason == "insecure_endpoint"
    assert refused.value.detail == f"the discovered jwks_uri {endpoint!r} is plain http to a host that is not loopback"


@pytest.mark.parametrize("endpoint", [None, 5, "keys.example.com/jwks", "ftp://keys.example.com/jwks"])
@respx.mock
async def test_metadata_without_a_usable_endpoint_names_the_field_and_the_hint(endpoint: object) -> None:
    respx.get(LOOPBACK_METADATA).respond(200, json={"issuer": LOOPBACK_ISSUER, "jwks_uri": endpoint})
    async with httpx.AsyncClient() as client:
        with pytest.raises(FetchError) as refused:
            await resolver(client).resolve()
    assert refused.value.reason == "no_jwks_uri"
    assert refused.value.detail == (
        f"the metadata of {LOOPBACK_ISSUER} has no usable jwks_uri; set OSCAL_AUTH_JWT_JWKS_URI"
    )


async def test_without_an_issuer_there_is_nothing_to_discover_from() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(FetchError) as refused:
            await resolver(client, issuer=None).resolve()
    assert refused.value.reason == "no_endpoint"
    assert refused.value.detail == "no issuer to discover jwks_uri from; set OSCAL_AUTH_JWT_JWKS_URI"


@respx.mock
async def test_a_configured_endpoint_is_used_without_discovery() -> None:
    metadata = respx.get(LOOPBACK_METADATA).respond(404)
    async with httpx.AsyncClient() as client:
        assert await resolver(client, configured="https://keys.example.com/jwks").resolve() == (
            "https://keys.example.com/jwks"
        )
    assert metadata.call_count == 0


@respx.mock
async def test_a_discovered_endpoint_is_kept_and_logged_once_with_its_label(caplog: pytest.LogCaptureFixture) -> None:
    endpoint = "http://127.0.0.1:9000/jwks"
    metadata = respx.get(LOOPBACK_METADATA).respond(200, json={"issuer": LOOPBACK_ISSUER, "jwks_uri": endpoint})
    async with httpx.AsyncClient() as client:
        found = resolver(client, label="JWKS")
        with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
            assert [await found.resolve() for _ in range(3)] == [endpoint] * 3
    assert metadata.call_count == 1
    assert [r.getMessage() for r in caplog.records] == [f"JWKS {endpoint!r} (from the metadata of {LOOPBACK_ISSUER})"]


@respx.mock
async def test_discovery_passes_its_size_limit_to_the_metadata_fetch() -> None:
    big = {"issuer": LOOPBACK_ISSUER, "jwks_uri": "http://127.0.0.1:9000/jwks", "padding": "x" * 400}
    respx.get(LOOPBACK_METADATA).respond(200, json=big)
    respx.get(LOOPBACK_ISSUER + "/.well-known/openid-configuration").respond(404)
    async with httpx.AsyncClient() as client:
        with pytest.raises(FetchError) as refused:
            await resolver(client, max_bytes=300).resolve()
    assert refused.value.reason == "no_metadata"
    assert "too_large" in refused.value.detail


@respx.mock
async def test_by_default_a_resolver_refuses_plain_http_and_gives_no_hint() -> None:
    respx.get(LOOPBACK_METADATA).respond(200, json={"issuer": LOOPBACK_ISSUER, "jwks_uri": "http://keys.example.com/"})
    async with httpx.AsyncClient() as client:
        with pytest.raises(FetchError) as insecure:
            await EndpointResolver(client, LOOPBACK_ISSUER, "jwks_uri").resolve()
        assert insecure.value.reason == "insecure_endpoint"
        with pytest.raises(FetchError) as unknown:
            await EndpointResolver(client, LOOPBACK_ISSUER, "introspection_endpoint").resolve()
    assert unknown.value.detail == f"the metadata of {LOOPBACK_ISSUER} has no usable introspection_endpoint; "


def slow_authorization_server() -> httpx.AsyncClient:
    """An AS whose metadata answer comes 3 s late (bounded: the handler ends by itself)."""

    async def late_answer(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(3)
        return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})

    return httpx.AsyncClient(transport=httpx.MockTransport(late_answer))


async def test_the_configured_timeout_bounds_the_metadata_fetch() -> None:
    async with slow_authorization_server() as client:
        with pytest.raises(FetchError) as late:
            await fetch_metadata(client, ISSUER, total_timeout=0.2)
    assert (late.value.reason, late.value.detail) == ("timeout", f"GET {RFC8414} took longer than 0.2 s")


async def test_the_resolver_passes_its_timeout_to_the_metadata_fetch() -> None:
    async with slow_authorization_server() as client:
        with pytest.raises(FetchError) as late:
            await resolver(client, ISSUER, total_timeout=0.2).resolve()
    assert (late.value.reason, late.value.detail) == ("timeout", f"GET {RFC8414} took longer than 0.2 s")
