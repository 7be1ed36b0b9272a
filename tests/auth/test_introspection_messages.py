"""What the introspection verifier tells: each refusal's detail word for word, and the operator's
WARNING when the Authorization Server fails, at most once a minute per reason."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from typing import Any

import pytest
import respx

from oscal_mcp_auth import ConfigurationError
from oscal_mcp_auth.backends import introspection
from oscal_mcp_auth.backends.introspection import CACHE_CODEC
from oscal_mcp_auth.backends.introspection_settings import load_settings
from tests.auth.test_introspection import ENDPOINT, active, auth_server, config_for, make_verifier, rejection

NOW = 1_800_000_000
pytestmark = [pytest.mark.anyio, pytest.mark.time_machine(NOW, tick=False)]
__all__ = ["auth_server"]  # the fixture, imported for these tests
HINT = (
    "the authorization server refused this resource server's client credentials; "
    "check OSCAL_AUTH_INTROSPECTION_CLIENT_ID/SECRET and OSCAL_AUTH_INTROSPECTION_AUTH_METHOD"
)


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        (["active"], "bad_response", "the introspection response is not a JSON object"),
        ({"active": "true"}, "bad_response", 'the response has no boolean "active" (RFC 7662 2.2)'),
        ({}, "bad_response", 'the response has no boolean "active" (RFC 7662 2.2)'),
        ({"active": False}, "inactive", "the authorization server reports the token inactive"),
    ],
)
async def test_a_refused_answer_is_explained(
    auth_server: respx.MockRouter, body: Any, reason: str, detail: str
) -> None:
    auth_server.post(ENDPOINT).respond(json=body)
    refused = await rejection(make_verifier(cache_seconds="0", inactive_cache_seconds="0"))
    assert (refused.reason, refused.detail) == (reason, detail)


async def test_a_malformed_claim_is_a_bad_response_naming_the_claim(auth_server: respx.MockRouter) -> None:
    auth_server.post(ENDPOINT).respond(json=active(exp="tomorrow"))
    refused = await rejection(make_verifier())
    assert refused.reason == "bad_response"
    assert refused.detail and "exp" in refused.detail


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The verifier module's monotonic clock, moved by hand (the event loop keeps the real one)."""
    now = [5000.0]

    class Clock(SimpleNamespace):
        def __getattr__(self, name: str) -> Any:  # everything else from the real time module
            return getattr(time, name)

    monkeypatch.setattr(introspection, "time", Clock(monotonic=lambda: now[0]))
    return now


async def test_the_operator_is_warned_once_a_minute_per_reason(
    auth_server: respx.MockRouter, monotonic: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    route = auth_server.post(ENDPOINT)
    verifier = make_verifier(cache_seconds="0", inactive_cache_seconds="0")
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        route.respond(401, json={"error": "invalid_client"})
        denied = await rejection(verifier)
        route.respond(500, json={})
        unavailable = await rejection(verifier)
        monotonic[0] += 59.9
        await rejection(verifier)
        monotonic[0] += 0.1  # exactly a minute after the last warning
        await rejection(verifier)
    assert (denied.reason, denied.detail) == ("introspection_denied", f"HTTP 401 error='invalid_client': {HINT}")
    assert (unavailable.reason, unavailable.detail) == (
        "introspection_unavailable",
        f"http_status: {ENDPOINT} answered HTTP 500",
    )
    warning = "token introspection failing: reason={} {} (requests are rejected)"
    assert [record.getMessage() for record in caplog.records] == [
        warning.format("introspection_denied", denied.detail),
        warning.format("introspection_unavailable", unavailable.detail),
        warning.format("introspection_unavailable", unavailable.detail),
    ]


def test_a_cached_result_survives_the_shared_codec() -> None:
    from mcp.server.auth.provider import AccessToken

    access = AccessToken(
        token="secret-token", client_id="c", scopes=["oscal:read"], expires_at=NOW + 60, resource="https://r/mcp",
        subject="u", claims={"iss": "https://as", "aud": ["https://r/mcp"], "cnf": {"jkt": "abc"}},
    )  # fmt: skip
    encoded = CACHE_CODEC.encode(access)
    assert "secret-token" not in repr(encoded)
    assert CACHE_CODEC.decode(encoded) == access.model_copy(update={"token": ""})
    refusal = introspection.Refusal("inactive", "the authorization server reports the token inactive")
    assert CACHE_CODEC.decode(CACHE_CODEC.encode(refusal)) == refusal


WHO = "client_id='mcp-client'"


@pytest.mark.parametrize(
    ("members", "reason", "detail"),
    [
        ({"iss": "https://evil.example"}, "wrong_issuer",
         f"iss='https://evil.example' is not https://as.example.com; {WHO}"),
        ({"exp": NOW - 100}, "expired", f"exp={NOW - 100} nbf=None; {WHO}"),
        ({"nbf": NOW + 100}, "not_yet_valid", f"exp={NOW + 300} nbf={NOW + 100}; {WHO}"),
        ({"aud": None}, "no_audience",
         f"the response has no aud; set OSCAL_AUTH_INTROSPECTION_REQUIRE_AUDIENCE=false to allow that; {WHO}"),
        ({"aud": "https://other.example"}, "wrong_audience",
         f"aud='https://other.example' does not include https://mcp.example.com/mcp; {WHO}"),
        ({"token_type": "refresh_token"}, "wrong_token_type",
         f"token_type='refresh_token' is not Bearer, nor DPoP with a cnf; {WHO}"),
        ({"token_use": "id_token"}, "wrong_token_type", f"token_use='id_token' is not access_token; {WHO}"),
    ],
)  # fmt: skip
async def test_each_refusal_of_an_active_answer_says_what_was_wrong(
    auth_server: respx.MockRouter, members: dict[str, Any], reason: str, detail: str
) -> None:
    auth_server.post(ENDPOINT).respond(json=active(**{"exp": NOW + 300, "iat": NOW, **members}))
    refused = await rejection(make_verifier())
    assert (refused.reason, refused.detail) == (reason, detail)


async def test_an_error_code_in_a_failed_answer_is_reported(auth_server: respx.MockRouter) -> None:
    auth_server.post(ENDPOINT).respond(500, json={"error": "server_error"})
    refused = await rejection(make_verifier())
    assert refused.detail == f"http_status: {ENDPOINT} answered HTTP 500 error='server_error'"


async def test_a_long_error_code_is_cut_and_a_non_object_error_body_gives_none(auth_server: respx.MockRouter) -> None:
    route = auth_server.post(ENDPOINT)
    route.respond(500, json={"error": "e" * 100})
    refused = await rejection(make_verifier())
    cut = "'" + "e" * 56 + "..."  # 60 characters, the quote and the ellipsis included
    assert refused.detail == f"http_status: {ENDPOINT} answered HTTP 500 error={cut}"
    route.respond(500, json=["error", "server_error"])
    refused = await rejection(make_verifier())
    assert refused.detail == f"http_status: {ENDPOINT} answered HTTP 500"


async def test_scopes_come_from_the_scope_member_only(auth_server: respx.MockRouter) -> None:
    auth_server.post(ENDPOINT).respond(json=active(scope=None, scp=["oscal:read"]))
    assert (await make_verifier().verify_token("another-token-0123456789")).scopes == []


async def test_metadata_without_an_introspection_endpoint_says_which_setting_to_set(
    auth_server: respx.MockRouter,
) -> None:
    auth_server.get("https://as.example.com/.well-known/oauth-authorization-server").respond(
        json={"issuer": "https://as.example.com"}
    )
    refused = await rejection(make_verifier(url=None))
    assert refused.detail == (
        "no_introspection_endpoint: the metadata of https://as.example.com has no usable introspection_endpoint; "
        "set OSCAL_AUTH_INTROSPECTION_URL"
    )


def test_building_without_a_resource_url_or_a_client_secret_names_the_missing_setting() -> None:
    config = config_for()
    settings = load_settings(config)
    without_resource = config_for(OSCAL_AUTH_RESOURCE_SERVER_URL=None)
    with pytest.raises(ConfigurationError) as no_resource:
        introspection.IntrospectionVerifier(without_resource, settings)
    assert str(no_resource.value) == "the introspection verifier needs OSCAL_AUTH_RESOURCE_SERVER_URL"
    with pytest.raises(ConfigurationError) as no_secret:
        introspection.IntrospectionVerifier(config, settings.model_copy(update={"client_secret": None}))
    assert str(no_secret.value) == "the introspection verifier needs OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET"
