"""What a JWKS cache tells its operators and which keys it takes: the reason word and detail of a
failed fetch (as logged), the issuer it names when serving stale keys, and a JWK without ``use``."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import respx

from oscal_mcp_auth import hookimpl
from oscal_mcp_auth.hooks import create_plugin_manager, register_plugin
from oscal_mcp_auth.http import FetchError
from oscal_mcp_auth.jwks import JwksCache, KeySet
from oscal_mcp_auth.telemetry import Telemetry, installed
from tests.auth.jwks_fakes import Clock
from tests.auth.keys import public_keys

pytestmark = pytest.mark.anyio
ISSUER = "https://as.example.com"
URI = f"{ISSUER}/jwks"


def make_cache(clock: Clock) -> JwksCache:
    async def resolve() -> str:
        return URI

    return JwksCache(httpx.AsyncClient(), resolve, allowed_algorithms=("RS256", "ES256"), clock=clock, issuer=ISSUER)


async def failure_of(cache: JwksCache) -> FetchError:
    with pytest.raises(FetchError) as failed:
        await cache.find("rs-1", "RS256")
    return failed.value


@pytest.mark.parametrize("document", [{"no": "keys"}, {"keys": {"rs-1": {}}}, ["keys"]])
def test_a_document_without_a_keys_list_is_refused_as_bad_jwks(document: Any) -> None:
    with pytest.raises(FetchError) as refused:
        KeySet.from_jwks(document, ("RS256",))
    assert (refused.value.reason, refused.value.detail) == ("bad_jwks", 'the JWKS document has no "keys" list')


@respx.mock
async def test_a_fetched_document_without_keys_is_logged_with_its_reason_and_detail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    respx.get(URI).respond(200, json={"no": "keys"})
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        failure = await failure_of(make_cache(Clock()))
    assert failure.reason == "bad_jwks"
    assert (
        'JWKS fetch failed (bad_jwks: the JWKS document has no "keys" list); no usable keys, tokens are rejected '
        f"[issuer {ISSUER}]"
    ) in caplog.messages


@respx.mock
async def test_an_unreachable_jwks_endpoint_is_named_with_the_method_and_url() -> None:
    respx.get(URI).mock(side_effect=httpx.ConnectError("refused"))
    failure = await failure_of(make_cache(Clock()))
    assert (failure.reason, failure.detail) == ("unreachable", f"GET {URI}: ConnectError")


@pytest.mark.parametrize("use", [None, "sig"])
def test_a_jwk_without_use_or_with_use_sig_verifies(use: str | None) -> None:
    """RFC 7517 section 4.2: ``use`` is optional; only a key marked for another use is skipped."""
    keys = [
        {k: v for k, v in key.items() if k != "use"} | ({"use": use} if use else {}) for key in public_keys()["keys"]
    ]
    key_set = KeySet.from_jwks({"keys": keys}, ("RS256", "ES256"))
    assert key_set.kids == {"rs-1", "es-1"}
    assert KeySet.from_jwks({"keys": [dict(k, use="enc") for k in keys]}, ("RS256", "ES256")).kids == frozenset()


class StaleRecorder:
    def __init__(self) -> None:
        self.issuers: list[str] = []

    @hookimpl
    def oscal_auth_stale_keys(self, issuer: str) -> None:
        self.issuers.append(issuer)


@respx.mock
async def test_serving_stale_keys_is_reported_with_the_issuer() -> None:
    route = respx.get(URI).respond(200, json=public_keys())
    recorder = StaleRecorder()
    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, recorder, "recorder")
    clock = Clock()
    with installed(Telemetry(manager.hook)):
        cache = make_cache(clock)
    await cache.find("rs-1", "RS256")
    route.respond(503)
    clock.now += 301
    assert await cache.find("rs-1", "RS256") is not None  # the last good key set, stale
    assert recorder.issuers == [ISSUER]


def test_a_jwk_that_cannot_be_built_is_skipped_and_named_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    broken = [{"kty": "RSA", "kid": "broken-rsa", "n": "xx", "e": "AQAB"}, *public_keys()["keys"]]
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        key_set = KeySet.from_jwks({"keys": broken}, ("RS256", "ES256"))
    assert key_set.kids == {"rs-1", "es-1"}
    assert caplog.messages == ["JWKS key kid=broken-rsa alg=RS256 skipped: ValueError"]


@pytest.mark.parametrize("kid", [7, ["rs-1"], None])
def test_a_jwk_whose_kid_is_no_string_serves_tokens_without_a_kid(kid: Any) -> None:
    """RFC 7517 section 4.5: a kid is a string; a key with any other value has none."""
    rsa = next(key for key in public_keys()["keys"] if key["kid"] == "rs-1")
    key_set = KeySet.from_jwks({"keys": [dict(rsa, kid=kid)]}, ("RS256",))
    assert key_set.kids == {None}
    assert key_set.find(None, "RS256") is not None


def default_cache(clock: Clock, **options: Any) -> JwksCache:
    """A cache with the constructor's own defaults (30 s between refreshes, keys kept stale for a day)."""

    async def resolve() -> str:
        return URI

    return JwksCache(httpx.AsyncClient(), resolve, allowed_algorithms=("RS256",), clock=clock, **options)


@respx.mock
async def test_by_default_an_unknown_kid_may_refresh_the_keys_30_seconds_after_a_fetch() -> None:
    route = respx.get(URI).respond(200, json=public_keys())
    clock = Clock()
    cache = default_cache(clock)
    await cache.find("rs-1", "RS256")
    clock.now += 29.5
    await cache.find("unknown", "RS256")
    assert route.call_count == 1
    clock.now += 0.5
    await cache.find("unknown", "RS256")
    assert route.call_count == 2


@respx.mock
async def test_by_default_keys_are_served_stale_for_one_day_then_dropped() -> None:
    route = respx.get(URI).respond(200, json=public_keys())
    clock = Clock()
    cache = default_cache(clock)
    await cache.find("rs-1", "RS256")
    route.respond(503)
    clock.now += 86_400
    assert await cache.find("rs-1", "RS256") is not None
    clock.now += 0.5
    with pytest.raises(FetchError) as expired:
        await cache.find("rs-1", "RS256")
    assert expired.value.reason == "keys_unavailable"


class FetchRecorder:
    def __init__(self) -> None:
        self.fetches: list[tuple[str, str, str]] = []

    @hookimpl
    def oscal_auth_fetched(self, kind: str, issuer: str, outcome: str, seconds: float) -> None:
        self.fetches.append((kind, issuer, outcome))


@respx.mock
async def test_a_cache_for_no_named_issuer_reports_and_logs_without_one(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(URI).respond(503)
    recorder = FetchRecorder()
    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, recorder, "recorder")
    with installed(Telemetry(manager.hook)):
        cache = default_cache(Clock())
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        assert (await failure_of(cache)).reason == "not_json"
    assert recorder.fetches == [("jwks", "", "not_json")]
    assert caplog.messages[-1].endswith("no usable keys, tokens are rejected")


@respx.mock
async def test_the_first_fetch_is_never_held_back_whatever_the_clock_reads() -> None:
    """A monotonic clock may read 0 (a fresh boot, an event loop's own clock): no cool-down yet."""
    route = respx.get(URI).respond(200, json=public_keys())
    clock = Clock()
    clock.now = 0.0
    assert await default_cache(clock).find("rs-1", "RS256") is not None
    assert route.call_count == 1
