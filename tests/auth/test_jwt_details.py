"""What the jwt verifier tells its operators: the result-cache lookups it reports to telemetry, the
kid and jti every late refusal names, a kid that is no string taken as none, and the Redis key
prefix (and the settings scoping it) under which each issuer's key set is shared."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

import anyio
import httpx
import pytest
import redis.asyncio as aioredis
import respx

from oscal_mcp_auth import AuthConfig, ConfigurationError, TokenRejected, hookimpl
from oscal_mcp_auth.backends import jwt as jwt_backend
from oscal_mcp_auth.backends.jwt import JwtSettings, JwtVerifier, create_verifier
from oscal_mcp_auth.hooks import create_plugin_manager, register_plugin
from oscal_mcp_auth.jwks import JwksCache, KeySet, key_set_from_pem
from oscal_mcp_auth.telemetry import Telemetry, installed
from tests.auth.jwks_fakes import Clock
from tests.auth.keys import ISSUER, RESOURCE, mint, private_key, public_keys
from tests.e2e.as_fixture import public_pem
from tests.redis_server import RedisServer

NOW = 1_800_000_000
pytestmark = [pytest.mark.anyio, pytest.mark.time_machine(NOW, tick=False)]
OTHER_ISSUER = "https://login.example.org/tenant"
CACHED = {"OSCAL_AUTH_CACHE_URL": "redis://127.0.0.1:1/0", "OSCAL_AUTH_CACHE_SECRET": "s" * 32}


def config(**env: str) -> AuthConfig:
    values = {"OSCAL_AUTH_ISSUER_URL": ISSUER, "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE, "OSCAL_AUTH_VERIFIER": "jwt"}
    return AuthConfig.from_mapping({**values, **env})


def verifier(keys: KeySet | None = None) -> JwtVerifier:
    return JwtVerifier(config(), JwtSettings(), keys or KeySet.from_jwks(public_keys(), ("RS256", "ES256")))


async def rejection(checker: JwtVerifier, token: str) -> TokenRejected:
    with pytest.raises(TokenRejected) as rejected:
        await checker.verify_token(token)
    return rejected.value


class LookupRecorder:
    def __init__(self) -> None:
        self.lookups: list[tuple[str, bool]] = []

    @hookimpl
    def oscal_auth_cache_lookup(self, layer: str, hit: bool) -> None:
        self.lookups.append((layer, hit))


async def test_each_result_cache_lookup_is_reported_as_a_local_hit_or_miss() -> None:
    recorder = LookupRecorder()
    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, recorder, "recorder")
    with installed(Telemetry(manager.hook)):
        checker = verifier()
    token = mint()
    await checker.verify_token(token)
    await checker.verify_token(token)
    assert recorder.lookups == [("local", False), ("local", True)]


async def test_a_bad_signature_names_the_tokens_kid_and_jti() -> None:
    forged = mint(jti="jti-forged").rsplit(".", 1)[0] + "." + mint(jti="other").rsplit(".", 1)[1]
    refused = await rejection(verifier(), forged)
    assert str(refused) == "bad_signature: kid='rs-1' jti='jti-forged'"


async def test_a_malformed_time_claim_is_named_with_the_tokens_kid_and_jti() -> None:
    refused = await rejection(verifier(), mint(exp="9999999999", jti="jti-text-exp"))
    assert refused.reason == "bad_claim"
    assert str(refused) == "bad_claim: exp is not a number; kid='rs-1' jti='jti-text-exp'"


@pytest.mark.parametrize("kid", [7, ["rs-1"], {"kid": "rs-1"}])
async def test_a_kid_that_is_no_string_is_taken_as_no_kid(kid: Any) -> None:
    """RFC 7515 section 4.1.4: a kid is a string. Any other value names no key: the one key of a
    PEM key set (which has no kid) verifies the token, and a JWKS whose keys all have kids knows
    none for it."""
    pem_keys = key_set_from_pem(public_pem(private_key("rs-1")), ("RS256",))
    token = mint(headers={"kid": kid})
    assert (await verifier(pem_keys).verify_token(token)).client_id == "client-1"
    assert str(await rejection(verifier(), token)) == "unknown_key: kid=None alg=RS256"


SHARED_LINE = re.compile(
    r"shared cache jwks: redis keys oscal_mcp_auth:jwks:(?P<scope>[0-9a-f]{16}):\*, shared by the replicas that "
    r"agree on OSCAL_AUTH_RESOURCE_SERVER_URL, the issuer (?P<issuer>\S+), OSCAL_AUTH_JWT_JWKS_URI and the cache secret"
)


async def shared_scopes(caplog: pytest.LogCaptureFixture, **env: str) -> dict[str, str]:
    """The Redis key scope each issuer's key set is published under, read from the start-up log."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        checker = create_verifier(config(**CACHED, **env))
    await checker.aclose()
    found = [SHARED_LINE.fullmatch(record.getMessage()) for record in caplog.records]
    return {match["issuer"]: match["scope"] for match in found if match}


async def test_each_issuers_key_set_is_shared_under_a_scope_of_its_own(caplog: pytest.LogCaptureFixture) -> None:
    both = await shared_scopes(caplog, OSCAL_AUTH_ISSUER_URL=f"{ISSUER},{OTHER_ISSUER}")
    assert set(both) == {ISSUER, OTHER_ISSUER}
    assert both[ISSUER] != both[OTHER_ISSUER]
    alone = await shared_scopes(caplog)
    assert alone == {ISSUER: both[ISSUER]}  # replicas agreeing on the settings share the key set


async def test_a_configured_jwks_uri_scopes_the_shared_key_set(caplog: pytest.LogCaptureFixture) -> None:
    discovered = await shared_scopes(caplog)
    configured = await shared_scopes(caplog, OSCAL_AUTH_JWT_JWKS_URI="https://as.example.com/jwks")
    other = await shared_scopes(caplog, OSCAL_AUTH_JWT_JWKS_URI="https://as.example.com/jwks-2")
    assert len({discovered[ISSUER], configured[ISSUER], other[ISSUER]}) == 3


JWKS_URI = "https://as.example.com/jwks"
METADATA_URL = "https://as.example.com/.well-known/oauth-authorization-server/realms/oscal"  # RFC 8414 section 3.1


@respx.mock
async def test_a_verifier_built_from_a_jwks_uri_verifies_with_the_keys_it_fetches() -> None:
    route = respx.get(JWKS_URI).respond(200, json=public_keys())
    checker = create_verifier(config(OSCAL_AUTH_JWT_JWKS_URI=JWKS_URI))
    assert (await checker.verify_token(mint())).client_id == "client-1"
    assert route.call_count == 1
    await checker.aclose()


@respx.mock
async def test_metadata_without_a_jwks_uri_is_logged_with_the_setting_to_set(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(METADATA_URL).respond(200, json={"issuer": ISSUER})
    checker = create_verifier(config())
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        refused = await rejection(checker, mint())
    await checker.aclose()
    assert str(refused) == "jwks_unavailable: no_jwks_uri"
    assert (
        f"JWKS fetch failed (no_jwks_uri: the metadata of {ISSUER} has no usable jwks_uri; set OSCAL_AUTH_JWT_JWKS_URI)"
        f"; no usable keys, tokens are rejected [issuer {ISSUER}]"
    ) in caplog.messages


def test_a_verifier_with_no_audience_and_no_client_allow_list_names_both_settings() -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_verifier(config(OSCAL_AUTH_JWT_AUDIENCE=""))
    assert str(refused.value) == (
        "the jwt verifier has no way to tell that a token is meant for this server: set OSCAL_AUTH_JWT_AUDIENCE (the "
        "aud your IdP puts in access tokens, default the resource server URL) or, for IdPs without aud in access "
        "tokens (Amazon Cognito), OSCAL_AUTH_JWT_ALLOWED_CLIENT_IDS"
    )


async def test_a_token_from_an_unlisted_issuer_is_named_with_its_kid_and_jti() -> None:
    refused = await rejection(verifier(), mint(iss="https://evil.example.com", jti="jti-evil"))
    assert str(refused) == "wrong_issuer: kid='rs-1' jti='jti-evil'"


@respx.mock
async def test_a_discovered_jwks_uri_is_logged_as_the_signing_keys(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(METADATA_URL).respond(200, json={"issuer": ISSUER, "jwks_uri": JWKS_URI})
    respx.get(JWKS_URI).respond(200, json=public_keys())
    checker = create_verifier(config())
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        assert (await checker.verify_token(mint())).client_id == "client-1"
    await checker.aclose()
    assert f"signing keys (jwks_uri) '{JWKS_URI}' (from the metadata of {ISSUER})" in caplog.messages


@respx.mock
async def test_the_response_size_limit_bounds_the_discovery_too() -> None:
    padded = {"issuer": ISSUER, "jwks_uri": JWKS_URI, "padding": "x" * 2048}
    respx.get(METADATA_URL).respond(200, json=padded)
    respx.get(url__startswith="https://as.example.com/").respond(404)
    checker = create_verifier(config(OSCAL_AUTH_JWT_MAX_RESPONSE_BYTES="1024"))
    assert str(await rejection(checker, mint())) == "jwks_unavailable: no_metadata"
    await checker.aclose()


@respx.mock
async def test_allowed_plain_http_reaches_the_discovered_jwks_uri_too() -> None:
    """OSCAL_AUTH_ALLOW_INSECURE_HTTP (a test AS off loopback) holds for the endpoints discovery names."""
    issuer = "http://idp.example.com"
    respx.get(f"{issuer}/.well-known/oauth-authorization-server").respond(
        200, json={"issuer": issuer, "jwks_uri": f"{issuer}/jwks"}
    )
    respx.get(f"{issuer}/jwks").respond(200, json=public_keys())
    checker = create_verifier(config(OSCAL_AUTH_ISSUER_URL=issuer, OSCAL_AUTH_ALLOW_INSECURE_HTTP="true"))
    assert (await checker.verify_token(mint(iss=issuer))).client_id == "client-1"
    await checker.aclose()


@pytest.mark.parametrize(("max_age", "published_for"), [(None, 600), (1, 45)])
async def test_the_key_set_is_published_for_the_cache_lifetime_the_settings_give(
    redis_server: RedisServer, max_age: int | None, published_for: int
) -> None:
    """OSCAL_AUTH_JWT_JWKS_CACHE_SECONDS without a max-age; a shorter max-age raised to
    OSCAL_AUTH_JWT_JWKS_MIN_REFRESH_SECONDS. Other replicas take the set for that long."""
    headers = {"cache-control": f"max-age={max_age}"} if max_age else {}
    settings = {
        "OSCAL_AUTH_CACHE_URL": redis_server.url, "OSCAL_AUTH_CACHE_SECRET": "s" * 32,
        "OSCAL_AUTH_JWT_JWKS_URI": JWKS_URI, "OSCAL_AUTH_JWT_JWKS_CACHE_SECONDS": "600",
        "OSCAL_AUTH_JWT_JWKS_MIN_REFRESH_SECONDS": "45",
    }  # fmt: skip
    with respx.mock() as mock:
        mock.get(JWKS_URI).respond(200, json=public_keys(), headers=headers)
        checker = create_verifier(config(**settings))
        await checker.verify_token(mint())
        await checker.aclose()
    store = aioredis.Redis.from_url(redis_server.url)
    (key,) = await store.keys("oscal_mcp_auth:jwks:*")
    remaining_ms = await store.pttl(key)
    await store.aclose()
    assert (published_for - 1) * 1000 < remaining_ms <= published_for * 1000


def test_an_unknown_jwt_setting_is_named_with_the_jwt_settings_accepted() -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_verifier(config(OSCAL_AUTH_JWT_JWKS_URL=JWKS_URI))
    assert str(refused.value).startswith(
        "unknown setting OSCAL_AUTH_JWT_JWKS_URL; the jwt settings accepts: OSCAL_AUTH_JWT_JWKS_URI, "
    )


def test_a_jwt_verifier_built_without_an_issuer_names_the_setting() -> None:
    without_issuer = AuthConfig.from_mapping({"OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE})
    with pytest.raises(ConfigurationError) as refused:
        JwtVerifier(without_issuer, JwtSettings(), KeySet([]))
    assert str(refused.value) == "the jwt verifier needs OSCAL_AUTH_ISSUER_URL (tokens' iss must equal it)"


def test_without_a_resource_url_an_audience_or_client_ids_is_needed() -> None:
    without_resource = AuthConfig.from_mapping({"OSCAL_AUTH_ISSUER_URL": ISSUER, "OSCAL_AUTH_VERIFIER": "jwt"})
    with pytest.raises(ConfigurationError, match=r"^the jwt verifier has no way to tell"):
        create_verifier(without_resource)


def test_a_public_key_that_fits_no_allowed_algorithm_is_named() -> None:
    es_key = public_pem(private_key("es-1"))
    with pytest.raises(ConfigurationError) as refused:
        create_verifier(config(OSCAL_AUTH_JWT_PUBLIC_KEY=es_key, OSCAL_AUTH_JWT_ALGORITHMS="RS256"))
    assert str(refused.value) == "OSCAL_AUTH_JWT_PUBLIC_KEY: the public key fits none of the allowed algorithms"


@respx.mock
async def test_keys_are_served_stale_for_the_configured_time_then_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """OSCAL_AUTH_JWT_JWKS_MAX_STALE_SECONDS reaches the key cache (its clock made settable here)."""
    clock = Clock()
    monkeypatch.setattr(jwt_backend, "JwksCache", functools.partial(JwksCache, clock=clock))
    route = respx.get(JWKS_URI).respond(200, json=public_keys())
    settings = {"OSCAL_AUTH_JWT_JWKS_URI": JWKS_URI, "OSCAL_AUTH_JWT_JWKS_CACHE_SECONDS": "10",
                "OSCAL_AUTH_JWT_JWKS_MAX_STALE_SECONDS": "100"}  # fmt: skip
    checker = create_verifier(config(**settings))
    await checker.verify_token(mint(jti="fetched"))
    route.respond(503)
    clock.now += 100
    await checker.verify_token(mint(jti="stale"))  # refresh failed: the stale keys still serve
    clock.now += 1
    assert (await rejection(checker, mint(jti="dropped"))).reason == "keys_unavailable"
    await checker.aclose()


@respx.mock
async def test_the_configured_timeout_bounds_the_key_fetch(caplog: pytest.LogCaptureFixture) -> None:
    async def never_answers(request: httpx.Request) -> httpx.Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    respx.get(JWKS_URI).mock(side_effect=never_answers)
    checker = create_verifier(config(OSCAL_AUTH_JWT_JWKS_URI=JWKS_URI, OSCAL_AUTH_JWT_TIMEOUT_SECONDS="0.05"))
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        assert str(await rejection(checker, mint())) == "jwks_unavailable: timeout"
    await checker.aclose()
    assert caplog.messages[-1].startswith("JWKS fetch failed (timeout: no key set within 0.05 s)")


@respx.mock
async def test_the_response_size_limit_bounds_the_key_set_too() -> None:
    respx.get(JWKS_URI).respond(200, json={**public_keys(), "padding": "x" * 2048})
    checker = create_verifier(config(OSCAL_AUTH_JWT_JWKS_URI=JWKS_URI, OSCAL_AUTH_JWT_MAX_RESPONSE_BYTES="1024"))
    assert str(await rejection(checker, mint())) == "jwks_unavailable: too_large"
    await checker.aclose()
