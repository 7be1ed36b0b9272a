"""The introspection backend against a mocked Authorization Server (respx): RFC 7662 request and
response handling, failing closed, the result cache and single-flight, and start-up settings."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig, ConfigurationError, TokenRejected, available_verifiers, load_verifier
from oscal_mcp_auth.backends.introspection import (
    CachedResult,
    IntrospectionVerifier,
    Refusal,
    create_verifier,
    load_settings,
)
from oscal_mcp_auth.cache import MemoryCache, cache_key
from oscal_mcp_auth.hooks import create_plugin_manager
from oscal_mcp_auth.http import new_client
from tests.auth.introspection_endpoints import ENDPOINT, ISSUER, METADATA, NOW, RESOURCE

# Wall-clock time stands still at NOW (time-machine), so answers built "relative to now" meet the
# leeway at exactly the intended distance; the event loop's monotonic clock still runs.
pytestmark = [pytest.mark.anyio, pytest.mark.time_machine(NOW, tick=False)]

CLIENT_ID = "mcp-rs"
SECRET = "rs-secret-Xy9"
TOKEN = "opaque-token-0123456789"


def settings_env(**overrides: str | None) -> dict[str, str]:
    env: dict[str, str | None] = {
        "OSCAL_AUTH_VERIFIER": "introspection",
        "OSCAL_AUTH_ISSUER_URL": ISSUER,
        "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE,
        "OSCAL_AUTH_LEEWAY_SECONDS": "30",
        "OSCAL_AUTH_INTROSPECTION_URL": ENDPOINT,
        "OSCAL_AUTH_INTROSPECTION_CLIENT_ID": CLIENT_ID,
        "OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET": SECRET,
    }
    env.update({f"OSCAL_AUTH_INTROSPECTION_{k.upper()}" if k.islower() else k: v for k, v in overrides.items()})
    return {k: v for k, v in env.items() if v is not None}


def config_for(**overrides: str | None) -> AuthConfig:
    return AuthConfig.from_mapping(settings_env(**overrides))


# Building an httpx client costs ~0.1 s (its TLS context): the tests share one; respx answers for it.
SHARED_CLIENT = new_client()


def make_verifier(
    *, clock: FakeClock | None = None, cache: MemoryCache[CachedResult] | None = None, **overrides: str | None
) -> IntrospectionVerifier:
    config = config_for(**overrides)
    extra: dict[str, Any] = {"clock": clock.time} if clock is not None else {}
    return IntrospectionVerifier(config, load_settings(config), client=SHARED_CLIENT, cache=cache, **extra)


class FromNow(int):
    """A time member given relative to when the response is built (parameters are made earlier)."""


def active(**members: Any) -> dict[str, Any]:
    """An oidc-provider-shaped answer for an active token issued for RESOURCE; None leaves a member out."""
    now = int(time.time())
    members = {k: now + v if isinstance(v, FromNow) else v for k, v in members.items()}
    body: dict[str, Any] = {
        "active": True,
        "client_id": "mcp-client",
        "exp": now + 300,
        "iat": now,
        "iss": ISSUER,
        "aud": RESOURCE,
        "scope": "oscal:read oscal:write",
        "token_type": "Bearer",
    }
    body.update(members)
    return {k: v for k, v in body.items() if v is not None}


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


class FakeClock:
    """One clock for the verifier (wall time) and the cache (monotonic), moved by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def auth_server() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


async def rejection(verifier: IntrospectionVerifier, token: str = TOKEN) -> TokenRejected:
    with pytest.raises(TokenRejected) as rejected:
        await verifier.verify_token(token)
    assert token not in str(rejected.value)
    assert SECRET not in str(rejected.value)
    return rejected.value


# ---------------------------------------------------------------------------------------------------
# The request: RFC 7662 section 2.1 with client authentication
# ---------------------------------------------------------------------------------------------------


async def test_client_secret_basic_sends_the_credentials_in_the_authorization_header(
    auth_server: respx.MockRouter,
) -> None:
    route = auth_server.post(ENDPOINT).respond(json=active())
    await make_verifier().verify_token(TOKEN)
    request = route.calls.last.request
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form_of(request) == {"token": TOKEN, "token_type_hint": "access_token"}


async def test_client_secret_basic_form_encodes_id_and_secret_first(auth_server: respx.MockRouter) -> None:
    route = auth_server.post(ENDPOINT).respond(json=active())
    await make_verifier(client_id="rs:1", client_secret="p@ss word/+").verify_token(TOKEN)
    encoded = route.calls.last.request.headers["authorization"].removeprefix("Basic ")
    assert base64.b64decode(encoded).decode() == "rs%3A1:p%40ss+word%2F%2B"  # RFC 6749 section 2.3.1


async def test_client_secret_post_sends_the_credentials_in_the_form(auth_server: respx.MockRouter) -> None:
    route = auth_server.post(ENDPOINT).respond(json=active())
    await make_verifier(auth_method="client_secret_post").verify_token(TOKEN)
    request = route.calls.last.request
    assert "authorization" not in request.headers
    assert form_of(request) == {
        "token": TOKEN,
        "token_type_hint": "access_token",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
    }


async def test_secret_file_is_read_at_start_up_without_its_newline(
    auth_server: respx.MockRouter, tmp_path: Path
) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    verifier = make_verifier(client_secret=None, client_secret_file=str(secret_file))
    secret_file.unlink()  # read once, at start-up
    route = auth_server.post(ENDPOINT).respond(json=active())
    await verifier.verify_token(TOKEN)
    encoded = route.calls.last.request.headers["authorization"].removeprefix("Basic ")
    assert base64.b64decode(encoded).decode() == f"{CLIENT_ID}:from-a-file"


# ---------------------------------------------------------------------------------------------------
# The endpoint: configured, or discovered lazily from the issuer's metadata
# ---------------------------------------------------------------------------------------------------


async def test_endpoint_is_discovered_once_from_the_issuer_metadata(auth_server: respx.MockRouter) -> None:
    discovered = "https://as.example.com/token/introspection"
    metadata = auth_server.get(METADATA).respond(json={"issuer": ISSUER, "introspection_endpoint": discovered})
    introspection = auth_server.post(discovered).respond(json=active())
    verifier = make_verifier(url=None)
    assert metadata.call_count == 0  # start-up does not need the Authorization Server
    await asyncio.gather(*(verifier.verify_token(f"token-{n}") for n in range(10)))
    await verifier.verify_token("one-more")
    assert metadata.call_count == 1
    assert introspection.call_count == 11


async def test_failed_discovery_rejects_and_is_retried_by_the_next_request(auth_server: respx.MockRouter) -> None:
    discovered = "https://as.example.com/token/introspection"
    metadata = auth_server.get(METADATA)
    metadata.side_effect = [
        httpx.ConnectError("refused"),
        httpx.Response(200, json={"issuer": ISSUER, "introspection_endpoint": discovered}),
    ]
    auth_server.post(discovered).respond(json=active())
    verifier = make_verifier(url=None)
    refused = await rejection(verifier)
    assert (refused.reason, refused.detail.split(":")[0]) == ("introspection_unavailable", "unreachable")
    assert (await verifier.verify_token(TOKEN)).client_id == "mcp-client"


@pytest.mark.parametrize(
    ("document", "cause"),
    [
        ({"issuer": ISSUER}, "no_introspection_endpoint"),
        ({"issuer": ISSUER, "introspection_endpoint": "ftp://as.example.com/x"}, "no_introspection_endpoint"),
        ({"issuer": "https://evil.example.com", "introspection_endpoint": ENDPOINT}, "issuer_mismatch"),
    ],
)
async def test_unusable_metadata_means_unavailable(
    auth_server: respx.MockRouter, document: dict[str, Any], cause: str
) -> None:
    auth_server.get(METADATA).respond(json=document)
    refused = await rejection(make_verifier(url=None))
    assert refused.reason == "introspection_unavailable"
    assert refused.detail.startswith(cause)


async def test_configured_url_skips_discovery(auth_server: respx.MockRouter) -> None:
    metadata = auth_server.get(METADATA).respond(404)
    auth_server.post(ENDPOINT).respond(json=active())
    await make_verifier().verify_token(TOKEN)
    assert metadata.call_count == 0


# ---------------------------------------------------------------------------------------------------
# The response: RFC 7662 section 2.2, failing closed
# ---------------------------------------------------------------------------------------------------


async def test_active_response_becomes_an_access_token_for_this_resource(auth_server: respx.MockRouter) -> None:
    body = active(sub="alice", aud=["https://other.example.com", RESOURCE])
    auth_server.post(ENDPOINT).respond(json=body)
    access = await make_verifier().verify_token(TOKEN)
    assert access.token == TOKEN
    assert access.client_id == "mcp-client"
    assert access.scopes == ["oscal:read", "oscal:write"]
    assert access.expires_at == body["exp"]
    assert access.resource == RESOURCE
    assert access.subject == "alice"
    assert access.claims == {"iss": ISSUER, "aud": ["https://other.example.com", RESOURCE]}


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"active": False}, "inactive"),
        ({"active": None}, "bad_response"),
        ({"active": "true"}, "bad_response"),
        ({"active": 1}, "bad_response"),
        ({"exp": FromNow(-31)}, "expired"),
        ({"nbf": FromNow(31)}, "not_yet_valid"),
        ({"iss": "https://evil.example.com"}, "wrong_issuer"),
        ({"iss": ISSUER + "/"}, "wrong_issuer"),  # issuers compare exactly (RFC 8414 section 3.3)
        ({"aud": "https://other.example.com/mcp"}, "wrong_audience"),
        ({"aud": ["https://other.example.com/mcp", "mcp-rs"]}, "wrong_audience"),
        ({"aud": "https://mcp.example.com/mcp/admin"}, "wrong_audience"),
        ({"aud": "https://mcp.example.com/"}, "wrong_audience"),
        ({"aud": None}, "no_audience"),
        ({"aud": []}, "no_audience"),
        ({"token_type": "DPoP"}, "wrong_token_type"),
        ({"token_type": "refresh_token"}, "wrong_token_type"),
        ({"token_use": "refresh_token"}, "wrong_token_type"),
        ({"token_type": "DPoP", "cnf": "not an object"}, "wrong_token_type"),
        # audiences compare as plain strings (RFC 7519 section 4.1.3), a trailing slash aside
        ({"aud": "https://MCP.example.com:443/mcp/"}, "wrong_audience"),
        ({"aud": "https://mcp.example.com/tenants/acme/%2e%2e/%2E%2E/mcp"}, "wrong_audience"),
        ({"aud": "https://mcp.example.com/tenants/../mcp"}, "wrong_audience"),
        ({"aud": 5}, "bad_response"),
        ({"aud": [RESOURCE, 5]}, "bad_response"),
        ({"scope": 5}, "bad_response"),
        ({"scope": ["oscal:read", None]}, "bad_response"),
        ({"exp": "tomorrow"}, "bad_response"),
        ({"exp": True}, "bad_response"),
        ({"nbf": [1]}, "bad_response"),
        ({"client_id": 42}, "bad_response"),
        ({"sub": {"id": 1}}, "bad_response"),
        ({"iss": 1}, "bad_response"),
    ],
)
async def test_response_checks_refuse_with_a_reason(
    auth_server: respx.MockRouter, members: dict[str, Any], reason: str
) -> None:
    auth_server.post(ENDPOINT).respond(json=active(**members))
    assert (await rejection(make_verifier())).reason == reason


@pytest.mark.parametrize(
    "members",
    [
        {"exp": FromNow(-30)},  # expired, but within the 30 s leeway
        {"nbf": FromNow(30)},
        {"iss": None},  # iss is optional
        {"token_type": None},
        {"token_type": "bearer"},
        {"token_use": "access_token"},
        {"exp": None},
        {"aud": [RESOURCE + "/"]},  # a trailing slash aside, audiences compare as plain strings
    ],
)
async def test_response_variants_that_are_accepted(auth_server: respx.MockRouter, members: dict[str, Any]) -> None:
    body = active(**members)
    auth_server.post(ENDPOINT).respond(json=body)
    assert (await make_verifier().verify_token(TOKEN)).resource == RESOURCE


async def test_a_dpop_bound_tokens_cnf_is_handed_on_for_the_binding_check(auth_server: respx.MockRouter) -> None:
    """RFC 9449 section 6.2: token_type DPoP and cnf.jkt; the pipeline refuses the token under
    Bearer and matches it with a DPoP proof (test_pipeline)."""
    cnf = {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
    auth_server.post(ENDPOINT).respond(json=active(token_type="DPoP", cnf=cnf))
    access = await make_verifier().verify_token(TOKEN)
    assert access.claims is not None and access.claims["cnf"] == cnf


async def test_without_iss_the_configured_issuer_identifies_the_principal(auth_server: respx.MockRouter) -> None:
    auth_server.post(ENDPOINT).respond(json=active(iss=None))
    access = await make_verifier().verify_token(TOKEN)
    assert access.claims is not None and access.claims["iss"] == ISSUER


async def test_iss_is_not_checked_when_no_issuer_is_configured(auth_server: respx.MockRouter) -> None:
    auth_server.post(ENDPOINT).respond(json=active(iss="https://anything.example.com"))
    access = await make_verifier(OSCAL_AUTH_ISSUER_URL=None).verify_token(TOKEN)
    assert access.claims == {"iss": "https://anything.example.com", "aud": RESOURCE}


async def test_missing_audience_is_accepted_only_when_not_required(auth_server: respx.MockRouter) -> None:
    auth_server.post(ENDPOINT).respond(json=active(aud=None))
    assert (await rejection(make_verifier())).reason == "no_audience"
    access = await make_verifier(require_audience="false").verify_token(TOKEN)
    assert access.resource == RESOURCE


async def test_a_present_audience_is_checked_even_when_not_required(auth_server: respx.MockRouter) -> None:
    auth_server.post(ENDPOINT).respond(json=active(aud="https://other.example.com/mcp"))
    assert (await rejection(make_verifier(require_audience="false"))).reason == "wrong_audience"


@pytest.mark.parametrize(
    ("scope", "scopes"),
    [
        ("oscal:read", ["oscal:read"]),
        ("  oscal:read   oscal:write oscal:read ", ["oscal:read", "oscal:write"]),
        (["oscal:read", "oscal:write"], ["oscal:read", "oscal:write"]),
        (None, []),  # oidc-provider omits an empty scope
        ("", []),
    ],
)
async def test_scope_is_a_string_or_a_list(auth_server: respx.MockRouter, scope: Any, scopes: list[str]) -> None:
    auth_server.post(ENDPOINT).respond(json=active(scope=scope))
    assert (await make_verifier().verify_token(TOKEN)).scopes == scopes


async def test_missing_client_id_is_reported_as_unknown(auth_server: respx.MockRouter) -> None:
    auth_server.post(ENDPOINT).respond(json=active(client_id=None))
    assert (await make_verifier().verify_token(TOKEN)).client_id == "unknown"


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_rs_credentials_say_what_to_check(auth_server: respx.MockRouter, status: int) -> None:
    auth_server.post(ENDPOINT).respond(status, json={"error": "invalid_client"})
    refused = await rejection(make_verifier())
    assert refused.reason == "introspection_denied"
    assert f"HTTP {status} error='invalid_client'" in refused.detail
    assert "check OSCAL_AUTH_INTROSPECTION_CLIENT_ID/SECRET" in refused.detail


@pytest.mark.parametrize(
    ("response", "cause"),
    [
        (httpx.Response(500, json={"error": "server_error"}), "http_status"),
        (httpx.Response(400, json={"error": "invalid_request"}), "http_status"),
        (httpx.Response(302, headers={"location": "https://elsewhere.example.com"}, json={}), "http_status"),
        (httpx.Response(200, text="<!DOCTYPE html><html></html>"), "not_json"),
        (httpx.Response(200, text=f'{{"active": true, "aud": "{RESOURCE}", "exp": NaN}}'), None),
        (httpx.Response(200, json={"active": True, "pad": "x" * 70_000}), "too_large"),
        (httpx.Response(200, json=[{"active": True}]), None),
    ],
)
async def test_anything_but_a_200_json_object_within_limits_is_refused(
    auth_server: respx.MockRouter, response: httpx.Response, cause: str | None
) -> None:
    auth_server.post(ENDPOINT).mock(return_value=response)
    refused = await rejection(make_verifier())
    if cause is None:
        assert refused.reason == "bad_response"
    else:
        assert refused.reason == "introspection_unavailable"
        assert refused.detail.startswith(cause)


async def test_response_size_limit_is_a_setting(auth_server: respx.MockRouter) -> None:
    auth_server.post(ENDPOINT).respond(json=active(pad="x" * 2000))
    refused = await rejection(make_verifier(max_response_bytes="1024"))
    assert refused.detail.startswith("too_large")


@pytest.mark.parametrize(
    ("error", "cause"), [(httpx.ConnectError, "unreachable"), (httpx.ReadTimeout, "timeout")]
)  # fmt: skip
async def test_transport_failures_are_refusals(
    auth_server: respx.MockRouter, error: type[Exception], cause: str
) -> None:
    auth_server.post(ENDPOINT).mock(side_effect=error)
    refused = await rejection(make_verifier())
    assert (refused.reason, refused.detail.split(":")[0]) == ("introspection_unavailable", cause)


async def test_a_slow_authorization_server_is_cut_off_at_the_timeout(auth_server: respx.MockRouter) -> None:
    async def never_answers(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    auth_server.post(ENDPOINT).mock(side_effect=never_answers)
    refused = await rejection(make_verifier(timeout_seconds="0.2"))
    assert (refused.reason, refused.detail) == ("introspection_unavailable", "timeout: no answer within 0.2 s")


async def test_timeout_covers_discovery_and_introspection_together(auth_server: respx.MockRouter) -> None:
    """Discovery and the introspection call each fit in the timeout, but not both together."""
    discovered = "https://as.example.com/token/introspection"

    async def slow_metadata(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.6)
        return httpx.Response(200, json={"issuer": ISSUER, "introspection_endpoint": discovered})

    introspections: list[httpx.Request] = []

    async def slow_introspection(request: httpx.Request) -> httpx.Response:
        introspections.append(request)
        if len(introspections) == 1:
            await asyncio.sleep(0.6)
        return httpx.Response(200, json=active())

    auth_server.get(METADATA).mock(side_effect=slow_metadata)
    auth_server.post(discovered).mock(side_effect=slow_introspection)
    verifier = make_verifier(url=None, timeout_seconds="1")
    assert (await rejection(verifier)).detail.startswith("timeout")
    assert len(introspections) == 1  # the time ran out during the introspection call
    assert (await verifier.verify_token(TOKEN)).client_id == "mcp-client"  # the endpoint is known now


# ---------------------------------------------------------------------------------------------------
# The cache and single-flight
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "ttl"),
    [(3600, 60), (10, 10)],  # min(CACHE_SECONDS, exp - now): a cached result never outlives the token
)
async def test_active_result_is_cached_until_cache_seconds_or_exp(
    auth_server: respx.MockRouter, lifetime: int, ttl: int
) -> None:
    clock = FakeClock()
    route = auth_server.post(ENDPOINT).respond(json=active(exp=int(clock.now) + lifetime))
    verifier = make_verifier(clock=clock, cache=MemoryCache(clock=clock.time), cache_seconds="60")
    await verifier.verify_token(TOKEN)
    clock.advance(ttl - 0.5)
    await verifier.verify_token(TOKEN)
    assert route.call_count == 1
    clock.advance(1)
    await verifier.verify_token(TOKEN)
    assert route.call_count == 2


async def test_inactive_result_is_cached_briefly(auth_server: respx.MockRouter) -> None:
    clock = FakeClock()
    route = auth_server.post(ENDPOINT).respond(json={"active": False})
    verifier = make_verifier(clock=clock, cache=MemoryCache(clock=clock.time))
    assert (await rejection(verifier)).reason == "inactive"
    clock.advance(4.5)
    cached = await rejection(verifier)
    assert (cached.reason, cached.detail.endswith("(cached)"), route.call_count) == ("inactive", True, 1)
    clock.advance(1)
    await rejection(verifier)
    assert route.call_count == 2


async def test_other_refusals_about_the_token_are_cached_too(auth_server: respx.MockRouter) -> None:
    route = auth_server.post(ENDPOINT).respond(json=active(aud="https://other.example.com/mcp"))
    verifier = make_verifier()
    for _ in range(3):
        assert (await rejection(verifier)).reason == "wrong_audience"
    assert route.call_count == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.Response(401, json={"error": "invalid_client"}),
        httpx.Response(200, json={"active": "yes"}),
        httpx.ConnectError("refused"),
    ],
)
async def test_failures_to_get_an_answer_are_never_cached(
    auth_server: respx.MockRouter, failure: httpx.Response | Exception
) -> None:
    route = auth_server.post(ENDPOINT)
    route.side_effect = [failure, httpx.Response(200, json=active())]
    verifier = make_verifier()
    await rejection(verifier)
    assert (await verifier.verify_token(TOKEN)).client_id == "mcp-client"
    assert route.call_count == 2


async def test_cache_seconds_zero_introspects_every_request(auth_server: respx.MockRouter) -> None:
    route = auth_server.post(ENDPOINT).respond(json=active())
    verifier = make_verifier(cache_seconds="0")
    for _ in range(3):
        await verifier.verify_token(TOKEN)
    assert route.call_count == 3


async def test_both_cache_settings_zero_cache_nothing(auth_server: respx.MockRouter) -> None:
    route = auth_server.post(ENDPOINT).respond(json={"active": False})
    verifier = make_verifier(cache_seconds="0", inactive_cache_seconds="0")
    for _ in range(3):
        await rejection(verifier)
    assert route.call_count == 3


async def test_inactive_cache_zero_keeps_caching_active_results(auth_server: respx.MockRouter) -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        token = form_of(request)["token"]
        asked.append(token)
        return httpx.Response(200, json=active() if token == "good" else {"active": False})

    auth_server.post(ENDPOINT).mock(side_effect=answer)
    verifier = make_verifier(inactive_cache_seconds="0")
    for _ in range(2):
        await verifier.verify_token("good")
        await rejection(verifier, "bad")
    assert asked == ["good", "bad", "bad"]


async def test_cache_is_a_bounded_lru(auth_server: respx.MockRouter) -> None:
    route = auth_server.post(ENDPOINT).respond(json=active())
    verifier = make_verifier(cache_max_entries="2")
    for token in ("a-token", "b-token", "a-token", "c-token"):  # "b" is least recently used when "c" arrives
        await verifier.verify_token(token)
    assert route.call_count == 3
    await verifier.verify_token("a-token")
    await verifier.verify_token("c-token")
    assert route.call_count == 3
    await verifier.verify_token("b-token")
    assert route.call_count == 4


async def test_cache_holds_the_token_digest_never_the_token(auth_server: respx.MockRouter) -> None:
    auth_server.post(ENDPOINT).respond(json=active())

    class Recording(MemoryCache[CachedResult]):
        def __init__(self) -> None:
            super().__init__()
            self.keys: list[str] = []

        async def set(self, key: str, value: CachedResult, ttl_seconds: float) -> None:
            self.keys.append(key)
            await super().set(key, value, ttl_seconds)

    cache = Recording()
    verifier = make_verifier(clock=FakeClock(), cache=cache)
    await verifier.verify_token(TOKEN)
    assert cache.keys == [cache_key(TOKEN)]
    stored = cache.get_now(cache_key(TOKEN))
    assert isinstance(stored, AccessToken) and stored.token == ""  # the value holds no credential either
    assert (await verifier.verify_token(TOKEN)).token == TOKEN  # put back from the request


async def test_fifty_concurrent_requests_with_one_token_make_one_call(auth_server: respx.MockRouter) -> None:
    async def slowish(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return httpx.Response(200, json=active())

    route = auth_server.post(ENDPOINT).mock(side_effect=slowish)
    verifier = make_verifier()
    results = await asyncio.gather(*(verifier.verify_token(TOKEN) for _ in range(50)))
    assert route.call_count == 1
    assert {access.client_id for access in results} == {"mcp-client"}


async def test_single_flight_also_shares_a_refusal(auth_server: respx.MockRouter) -> None:
    async def slowish(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return httpx.Response(200, json={"active": False})

    route = auth_server.post(ENDPOINT).mock(side_effect=slowish)
    verifier = make_verifier(cache_seconds="0", inactive_cache_seconds="0")
    outcomes = await asyncio.gather(*(verifier.verify_token(TOKEN) for _ in range(50)), return_exceptions=True)
    assert route.call_count == 1
    assert {getattr(outcome, "reason", None) for outcome in outcomes} == {"inactive"}


async def test_concurrent_requests_with_different_tokens_are_not_merged(auth_server: respx.MockRouter) -> None:
    route = auth_server.post(ENDPOINT).respond(json=active())
    verifier = make_verifier()
    await asyncio.gather(*(verifier.verify_token(f"token-{n}") for n in range(5)))
    assert route.call_count == 5


async def test_refusal_marker_holds_no_token(auth_server: respx.MockRouter) -> None:
    clock = FakeClock()
    cache: MemoryCache[CachedResult] = MemoryCache(clock=clock.time)
    auth_server.post(ENDPOINT).respond(json={"active": False})
    await rejection(make_verifier(clock=clock, cache=cache))
    assert cache.get_now(cache_key(TOKEN)) == Refusal("inactive", "the authorization server reports the token inactive")


# ---------------------------------------------------------------------------------------------------
# Through the pipeline: logs and lifecycle
# ---------------------------------------------------------------------------------------------------


async def test_pipeline_logs_the_reason_and_never_the_token_or_secret(
    auth_server: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    auth_server.post(ENDPOINT).respond(401, json={"error": "invalid_client"})
    pipeline = load_verifier(config_for(), plugin_manager=create_plugin_manager(load_entry_points=False))
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        for _ in range(3):
            assert await pipeline.verify_token(TOKEN) is None
    await pipeline.aclose()
    rejections = [r.getMessage() for r in caplog.records if "reason=introspection_denied" in r.getMessage()]
    assert len([m for m in rejections if m.startswith("token rejected")]) == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # the operator warning is rate-limited
    assert "check OSCAL_AUTH_INTROSPECTION_CLIENT_ID/SECRET" in warnings[0].getMessage()
    assert TOKEN not in caplog.text
    assert SECRET not in caplog.text


async def test_aclose_closes_the_pooled_client() -> None:
    verifier = create_verifier(config_for())
    client = verifier._client
    assert not client.is_closed
    await verifier.aclose()
    assert client.is_closed


async def test_aclose_closes_a_result_cache_that_can_be_closed() -> None:
    closed: list[bool] = []

    class ClosableCache(MemoryCache[CachedResult]):  # a shared store's cache holds a connection
        async def aclose(self) -> None:
            closed.append(True)

    await make_verifier(cache=ClosableCache()).aclose()
    assert closed == [True]


def test_entry_point_builds_the_verifier() -> None:
    from oscal_mcp_auth.registry import build_verifier

    assert "introspection" in available_verifiers()
    assert isinstance(build_verifier(config_for()), IntrospectionVerifier)


# ---------------------------------------------------------------------------------------------------
# Settings, validated at start-up
# ---------------------------------------------------------------------------------------------------


def test_defaults() -> None:
    settings = load_settings(config_for())
    assert settings.auth_method == "client_secret_basic"
    assert settings.require_audience is True
    assert (settings.cache_seconds, settings.inactive_cache_seconds, settings.cache_max_entries) == (60, 5, 10_000)
    assert (settings.timeout_seconds, settings.max_response_bytes) == (5.0, 64 * 1024)
    assert SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_id": None}, "OSCAL_AUTH_INTROSPECTION_CLIENT_ID: Field required"),
        ({"client_secret": None}, "set OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET or .*_CLIENT_SECRET_FILE"),
        ({"client_secret": "  "}, "set OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET or .*_CLIENT_SECRET_FILE"),
        ({"client_secret_file": "/nonexistent/secret"}, "not both"),
        ({"url": None, "OSCAL_AUTH_ISSUER_URL": None}, "set OSCAL_AUTH_ISSUER_URL .* or OSCAL_AUTH_INTROSPECTION_URL"),
        ({"OSCAL_AUTH_RESOURCE_SERVER_URL": None}, "needs OSCAL_AUTH_RESOURCE_SERVER_URL"),
        ({"url": "as.example.com/introspect"}, "OSCAL_AUTH_INTROSPECTION_URL='as.example.com/introspect': .*absolute"),
        ({"url": "https://rs:pw@as.example.com/i"}, "put credentials in OSCAL_AUTH_INTROSPECTION_CLIENT_ID"),
        ({"auth_method": "private_key_jwt"}, "OSCAL_AUTH_INTROSPECTION_AUTH_METHOD='private_key_jwt'"),
        ({"require_audience": "maybe"}, "OSCAL_AUTH_INTROSPECTION_REQUIRE_AUDIENCE='maybe'"),
        ({"cache_seconds": "-1"}, "OSCAL_AUTH_INTROSPECTION_CACHE_SECONDS='-1'"),
        ({"cache_max_entries": "0"}, "OSCAL_AUTH_INTROSPECTION_CACHE_MAX_ENTRIES='0'"),
        ({"timeout_seconds": "0"}, "OSCAL_AUTH_INTROSPECTION_TIMEOUT_SECONDS='0'"),
        ({"max_response_bytes": "10"}, "OSCAL_AUTH_INTROSPECTION_MAX_RESPONSE_BYTES='10'"),
        ({"OSCAL_AUTH_INTROSPECTION_CACHE_SECS": "5"}, "unknown setting OSCAL_AUTH_INTROSPECTION_CACHE_SECS"),
    ],
)  # fmt: skip
def test_settings_errors_name_the_setting(overrides: dict[str, str | None], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as error:
        create_verifier(config_for(**overrides))
    assert SECRET not in str(error.value)


@pytest.mark.parametrize(
    ("content", "message"), [(None, "cannot be read"), ("\n", "is empty"), (b"\xff\xfe", "is not UTF-8 text")]
)
def test_secret_file_problems_stop_start_up(tmp_path: Path, content: str | bytes | None, message: str) -> None:
    path = tmp_path / "secret"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ConfigurationError, match=f"OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET_FILE=.*{message}"):
        create_verifier(config_for(client_secret=None, client_secret_file=str(path)))


def test_only_a_url_and_no_issuer_is_enough() -> None:
    verifier = create_verifier(config_for(OSCAL_AUTH_ISSUER_URL=None))
    assert verifier.issuer is None


def test_cleartext_endpoint_off_loopback_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigurationError) as error:
        create_verifier(config_for(url="http://as.internal:8080/introspect"))
    assert "OSCAL_AUTH_INTROSPECTION_URL='http://as.internal:8080/introspect' is plain http" in str(error.value)
    assert "OSCAL_AUTH_ALLOW_INSECURE_HTTP=true" in str(error.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/introspect", "http://127.0.0.2/i", "http://[::1]/i"])
def test_cleartext_endpoint_on_loopback_is_accepted(url: str) -> None:
    assert create_verifier(config_for(url=url)).settings.url == url


def test_cleartext_endpoint_is_accepted_when_insecure_http_is_allowed() -> None:
    config = config_for(url="http://as.internal:8080/introspect", OSCAL_AUTH_ALLOW_INSECURE_HTTP="true")
    assert create_verifier(config).settings.url == "http://as.internal:8080/introspect"


async def test_a_discovered_cleartext_endpoint_off_loopback_is_refused(auth_server: respx.MockRouter) -> None:
    metadata = {"issuer": ISSUER, "introspection_endpoint": "http://as.example.com/introspect"}
    auth_server.get(METADATA).respond(json=metadata)
    checker = create_verifier(config_for(url=None))
    rejected = await rejection(checker)
    assert rejected.reason == "introspection_unavailable"
    assert "insecure_endpoint" in rejected.detail


@respx.mock
async def test_a_refusal_with_a_non_json_body_is_still_reported_as_denied() -> None:
    """An AS may answer bad client credentials with an HTML 401: the log must still say so."""
    respx.post(ENDPOINT).mock(return_value=httpx.Response(401, text="<html>Unauthorized</html>"))
    with pytest.raises(TokenRejected) as rejected:
        await make_verifier().verify_token("opaque-token")
    assert rejected.value.reason == "introspection_denied"


async def test_a_client_id_with_a_newline_is_logged_escaped(
    auth_server: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    forged = "evil\nINFO oscal_mcp_auth: token accepted client_id=admin"
    auth_server.post(ENDPOINT).respond(json=active(client_id=forged, aud="https://other.example.com/mcp"))
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        await load_verifier(config_for(), plugin_manager=create_plugin_manager(load_entry_points=False)).verify_token(
            TOKEN
        )
    (line,) = [r.getMessage() for r in caplog.records if "token rejected" in r.getMessage()]
    assert "\n" not in line
    assert "client_id='evil\\nINFO" in line
