"""The introspection verifier hands its settings on to the parts it builds: the pooled HTTP client,
the endpoint discovery (insecure http, size limit, timeout, log label) and the result cache (when it
exists at all, its Redis namespace and the settings that scope it), and reports the HTTP request it
made in its refusals."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio
import httpx
import pytest
import respx

from oscal_mcp_auth import AuthConfig, TokenRejected
from oscal_mcp_auth.backends import introspection
from oscal_mcp_auth.backends.introspection import IntrospectionVerifier
from oscal_mcp_auth.backends.introspection_settings import load_settings
from oscal_mcp_auth.cache import MemoryCache
from oscal_mcp_auth.http import JsonResponse
from tests.auth.introspection_endpoints import ENDPOINT, ISSUER, METADATA, NOW, RESOURCE

pytestmark = [pytest.mark.anyio, pytest.mark.time_machine(NOW, tick=False)]

TOKEN = "opaque-token-wiring-0123456789"
ACTIVE = {"active": True, "client_id": "mcp-client", "exp": NOW + 300, "iss": ISSUER, "aud": RESOURCE}
INACTIVE = {"active": False}


def config_for(**settings: str | None) -> AuthConfig:
    values: dict[str, str | None] = {
        "OSCAL_AUTH_VERIFIER": "introspection",
        "OSCAL_AUTH_ISSUER_URL": ISSUER,
        "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE,
        "OSCAL_AUTH_INTROSPECTION_URL": ENDPOINT,
        "OSCAL_AUTH_INTROSPECTION_CLIENT_ID": "mcp-rs",
        "OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET": "rs-secret",
    }
    for name, value in settings.items():
        values[name if name.isupper() else f"OSCAL_AUTH_INTROSPECTION_{name.upper()}"] = value
    return AuthConfig.from_mapping({name: value for name, value in values.items() if value is not None})


def verifier_for(*, client: httpx.AsyncClient | None = None, **settings: str | None) -> IntrospectionVerifier:
    config = config_for(**settings)
    return IntrospectionVerifier(config, load_settings(config), client=client)


async def refusal(verifier: IntrospectionVerifier) -> TokenRejected:
    with pytest.raises(TokenRejected) as rejected:
        await verifier.verify_token(TOKEN)
    return rejected.value


# -- the HTTP client --------------------------------------------------------------------------------


async def test_the_client_it_builds_applies_the_timeout_setting_to_every_phase() -> None:
    verifier = verifier_for(timeout_seconds="2.5")
    assert verifier._client.timeout == httpx.Timeout(2.5)
    await verifier.aclose()


async def test_a_client_handed_in_is_the_one_that_asks() -> None:
    # The endpoint is a closed loopback port: only the handed-in transport can answer.
    endpoint = "http://127.0.0.1:9/introspect"
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, json=ACTIVE)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        verifier = verifier_for(client=client, url=endpoint, timeout_seconds="2")
        assert (await verifier.verify_token(TOKEN)).client_id == "mcp-client"
    assert [str(request.url) for request in asked] == [endpoint]


async def test_the_introspection_call_itself_is_bounded_by_the_timeout_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The call's own bound must be the setting, not the library default (5 s), or a TIMEOUT_SECONDS
    above 5 would be cut short; the whole request's deadline, started first, hides it below that."""
    bounds: list[Any] = []

    async def answering(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> JsonResponse:
        bounds.append(kwargs.get("total_timeout"))
        return JsonResponse(200, httpx.Headers(), ACTIVE)

    monkeypatch.setattr(introspection, "request_json", answering)
    await verifier_for(timeout_seconds="12").verify_token(TOKEN)
    assert bounds == [12.0]


@respx.mock
async def test_an_unreachable_endpoint_is_reported_with_the_request_made() -> None:
    respx.post(ENDPOINT).mock(side_effect=httpx.ConnectError)
    refused = await refusal(verifier_for())
    assert (refused.reason, refused.detail) == (
        "introspection_unavailable",
        f"unreachable: POST {ENDPOINT}: ConnectError",
    )


@pytest.mark.parametrize(
    ("status", "reason", "detail"),
    [
        (403, "introspection_denied", "HTTP 403: the authorization server refused this resource server's client"),
        (404, "introspection_unavailable", "not_json: POST "),
    ],
)
@respx.mock
async def test_only_401_and_403_with_a_non_json_body_mean_our_credentials_were_refused(
    status: int, reason: str, detail: str
) -> None:
    respx.post(ENDPOINT).mock(return_value=httpx.Response(status, text="<html>no</html>"))
    refused = await refusal(verifier_for())
    assert refused.reason == reason
    assert refused.detail.startswith(detail)


# -- discovery ---------------------------------------------------------------------------------------


@respx.mock
async def test_a_discovered_endpoint_is_logged_as_the_token_introspection_endpoint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    discovered = "https://as.example.com/token/introspection"
    respx.get(METADATA).respond(json={"issuer": ISSUER, "introspection_endpoint": discovered})
    respx.post(discovered).respond(json=ACTIVE)
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        await verifier_for(url=None).verify_token(TOKEN)
    assert f"token introspection endpoint {discovered!r} (from the metadata of {ISSUER})" in caplog.messages


@respx.mock
async def test_allowing_insecure_http_also_admits_a_discovered_cleartext_endpoint() -> None:
    discovered = "http://as.example.com/introspect"
    respx.get(METADATA).respond(json={"issuer": ISSUER, "introspection_endpoint": discovered})
    respx.post(discovered).respond(json=ACTIVE)
    verifier = verifier_for(url=None, OSCAL_AUTH_ALLOW_INSECURE_HTTP="true")
    assert (await verifier.verify_token(TOKEN)).client_id == "mcp-client"


@respx.mock
async def test_the_response_size_limit_also_bounds_the_metadata() -> None:
    metadata = {"issuer": ISSUER, "introspection_endpoint": ENDPOINT, "pad": "x" * 2048}
    respx.get(url__startswith=ISSUER).respond(json=metadata)
    refused = await refusal(verifier_for(url=None, max_response_bytes="1024"))
    assert refused.reason == "introspection_unavailable"
    assert f"{METADATA}: too_large" in refused.detail


@respx.mock
async def test_readiness_gives_up_on_silent_metadata_at_the_timeout_setting() -> None:
    """ready() has no deadline of its own: discovery's bound must be the setting (0.2 s here), not the
    library default (5 s) nor none; the guard below only stops a hang."""

    async def never_answers(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    respx.get(METADATA).mock(side_effect=never_answers)
    verifier = verifier_for(url=None, timeout_seconds="0.2")
    with anyio.fail_after(3):
        assert await verifier.ready() == "timeout"


# -- the result cache --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "answer"),
    [({"cache_seconds": "1", "inactive_cache_seconds": "0"}, ACTIVE),
     ({"cache_seconds": "0", "inactive_cache_seconds": "1"}, INACTIVE)],
)  # fmt: skip
@respx.mock
async def test_one_second_of_either_cache_setting_turns_the_cache_on(
    settings: dict[str, str], answer: dict[str, Any]
) -> None:
    route = respx.post(ENDPOINT).respond(json=answer)
    config = config_for(**settings)
    frozen = MemoryCache[introspection.CachedResult](clock=lambda: 0.0)
    verifier = IntrospectionVerifier(config, load_settings(config), cache=frozen, clock=lambda: float(NOW))
    for _ in range(2):
        try:
            await verifier.verify_token(TOKEN)
        except TokenRejected as refused:
            assert refused.reason == "inactive"
    assert route.call_count == 1


def shared_verifier(**settings: str) -> IntrospectionVerifier:
    """A verifier whose cache would be shared through Redis (never reached: nothing is cached here)."""
    cache_url, secret = "redis://127.0.0.1:9/0", "c" * 32
    config = config_for(OSCAL_AUTH_CACHE_URL=cache_url, OSCAL_AUTH_CACHE_SECRET=secret, **settings)
    return IntrospectionVerifier(config, load_settings(config))


async def test_the_shared_cache_log_names_its_namespace_and_every_setting_scoping_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        verifier = shared_verifier()
    (line,) = [message for message in caplog.messages if message.startswith("shared cache")]
    assert line.startswith("shared cache introspection: redis keys oscal_mcp_auth:introspection:")
    assert line.endswith(
        "shared by the replicas that agree on OSCAL_AUTH_RESOURCE_SERVER_URL, OSCAL_AUTH_ISSUER_URL, "
        "OSCAL_AUTH_LEEWAY_SECONDS, OSCAL_AUTH_INTROSPECTION_URL, OSCAL_AUTH_INTROSPECTION_CLIENT_ID, "
        "OSCAL_AUTH_INTROSPECTION_REQUIRE_AUDIENCE and the cache secret"
    )
    await verifier.aclose()


async def test_with_both_cache_settings_zero_no_shared_cache_is_set_up(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        verifier = shared_verifier(cache_seconds="0", inactive_cache_seconds="0")
    assert not [message for message in caplog.messages if message.startswith("shared cache")]
    await verifier.aclose()
