"""The JWKS cache's life told by its log lines and errors, in full: what an operator reads when the
Authorization Server's key endpoint fails, recovers, or rotates; and the exact edges of its clocks."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import httpx
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from oscal_mcp_auth import jwks
from oscal_mcp_auth.http import FetchError, request_json
from oscal_mcp_auth.jwks import (
    ASYMMETRIC_ALGORITHMS,
    MAX_DELTA_SECONDS,
    JwksCache,
    KeySet,
    KeysExpired,
    key_set_from_pem,
    max_age,
)
from tests.auth.jwks_fakes import Clock, Published
from tests.auth.keys import private_key, public_keys
from tests.e2e.as_fixture import generate_keys, public_jwks, public_pem

pytestmark = pytest.mark.anyio
URI = "https://as.example.com/jwks"
ISSUER = "https://as.example.com"
GOOD = httpx.Response(200, json=public_keys())
DOWN = httpx.Response(503, json={})


def make_cache(clock: Clock, **options: Any) -> JwksCache:
    async def resolve() -> str:
        return URI

    settings: dict[str, Any] = {"allowed_algorithms": ("RS256", "ES256"), "cache_seconds": 300}
    settings.update(options)
    return JwksCache(httpx.AsyncClient(), resolve, clock=clock, min_refresh_seconds=30, issuer=ISSUER, **settings)


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{record.levelname} {record.getMessage()}" for record in caplog.records]


@respx.mock
async def test_stale_serving_is_logged_when_it_starts_when_it_stops_and_why(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(URI).mock(side_effect=[GOOD, DOWN, DOWN, GOOD, GOOD])
    clock = Clock()
    cache = make_cache(clock, max_stale_seconds=3_600)
    of = f" [issuer {ISSUER}]"
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        await cache.find("rs-1", "RS256")
        clock.now += 300  # exactly at the end of the TTL: refreshed, and the refresh fails
        assert await cache.find("rs-1", "RS256") is not None
        clock.now += 40  # fails again: stale serving goes on, logged once
        assert await cache.find("rs-1", "RS256") is not None
        clock.now += 30
        await cache.find("rs-1", "RS256")  # back: the same kids, so no "loaded" line
        clock.now += 300
        await cache.find("rs-1", "RS256")
    assert messages(caplog) == [
        f"INFO JWKS loaded: 2 keys, kids=es-1,rs-1{of}",
        f"WARNING JWKS refresh failed (bad_status: JWKS answered HTTP 503); serving the last good key set{of}",
        f"WARNING JWKS: stale serving started; the last good key set is used for at most 3300 s more{of}",
        f"WARNING JWKS refresh failed (bad_status: JWKS answered HTTP 503); serving the last good key set{of}",
        f"WARNING JWKS refreshed after 70 s of failed refreshes; stale serving stopped{of}",
    ]


@respx.mock
async def test_a_dropped_key_set_is_logged_and_refused_until_a_refresh_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rotated = public_jwks(generate_keys(("rs-2", "es-2")))
    respx.get(URI).mock(side_effect=[GOOD, DOWN, DOWN, httpx.Response(200, json=rotated)])
    clock = Clock()
    cache = make_cache(clock, max_stale_seconds=600)
    of = f" [issuer {ISSUER}]"
    await cache.find("rs-1", "RS256")
    clock.now += 301
    await cache.find("rs-1", "RS256")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        clock.now += 300  # 601 s without a successful refresh
        with pytest.raises(KeysExpired) as expired:
            await cache.find("rs-1", "RS256")
        assert (expired.value.reason, expired.value.detail) == (
            "keys_unavailable",
            "refresh failed (bad_status) and the last key set expired",
        )
        clock.now += 1  # within the cool-down
        with pytest.raises(KeysExpired) as still:
            await cache.find("rs-1", "RS256")
        assert still.value.detail == "no successful JWKS refresh for over 600 s"
        clock.now += 30
        found = await cache.find("rs-2", "RS256")
    assert found is not None and found.kid == "rs-2"
    assert messages(caplog) == [
        "WARNING JWKS: no successful refresh for over 600 s; stale serving stopped, the last key set is dropped "
        f"and tokens are rejected (keys_unavailable) until a refresh succeeds{of}",
        f"WARNING JWKS fetch failed (bad_status: JWKS answered HTTP 503); no usable keys, tokens are rejected{of}",
        f"WARNING JWKS refreshed after 632 s of failed refreshes; stale serving stopped{of}",
        f"INFO JWKS loaded: 2 keys, kids=es-2,rs-2{of}",
    ]


@respx.mock
async def test_a_failed_cold_start_is_refused_plainly_during_the_cool_down() -> None:
    respx.get(URI).mock(side_effect=[httpx.ConnectError("refused")])
    cache = make_cache(Clock())
    with pytest.raises(FetchError) as first:
        await cache.find("rs-1", "RS256")
    assert first.value.reason == "unreachable"
    with pytest.raises(FetchError) as again:
        await cache.find("rs-1", "RS256")
    assert (again.value.reason, again.value.detail) == ("jwks_unavailable", "no signing keys have been fetched yet")


@respx.mock
async def test_a_key_set_is_fresh_until_the_very_end_of_its_ttl() -> None:
    route = respx.get(URI).mock(return_value=GOOD)
    clock = Clock()
    cache = make_cache(clock)
    await cache.find("rs-1", "RS256")
    clock.now += 299.999
    await cache.find("rs-1", "RS256")
    assert route.call_count == 1
    clock.now = 1300.0
    await cache.find("rs-1", "RS256")
    assert route.call_count == 2


@respx.mock
async def test_a_key_set_older_than_max_stale_is_dropped_at_the_end_of_its_ttl() -> None:
    respx.get(URI).mock(return_value=GOOD)
    clock = Clock()
    cache = make_cache(clock, max_stale_seconds=100)
    await cache.find("rs-1", "RS256")
    clock.now = 1300.0
    assert cache.current is None  # past max_stale and no longer fresh, exactly at the TTL's end


@respx.mock
async def test_an_unknown_kid_is_taken_from_the_set_another_replica_published() -> None:
    rotated = public_jwks(generate_keys(("rs-2", "es-2")))
    route = respx.get(URI).mock(return_value=GOOD)
    clock = Clock()
    shared = Published(None)

    async def resolve() -> str:
        return URI

    cache = JwksCache(httpx.AsyncClient(), resolve, allowed_algorithms=("RS256",), clock=clock, shared=shared)
    await cache.find("rs-1", "RS256")
    assert route.call_count == 1
    shared.document = rotated  # another replica met rs-2 first and published the new set
    clock.now += 31
    found = await cache.find("rs-2", "RS256")
    assert found is not None and found.kid == "rs-2"
    assert route.call_count == 1


def test_max_age_reads_every_size_of_delta_seconds() -> None:
    def of(value: str) -> int | None:
        return max_age(httpx.Headers({"cache-control": value}))

    assert of("max-age=0") == 0
    assert of("max-age=000") == 0
    assert of("public, max-age=1000000000") == 1_000_000_000
    assert of("max-age=2147483647") == MAX_DELTA_SECONDS - 1
    assert of("max-age=99999999999") == MAX_DELTA_SECONDS
    assert of("no-store") is None


def test_a_pem_text_that_is_no_key_is_refused() -> None:
    not_a_key = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n"
    with pytest.raises(ValueError, match=r"^the public key fits none of the allowed algorithms$"):
        key_set_from_pem(not_a_key, ("RS256", "ES256"))
    keys = key_set_from_pem(public_pem(private_key("rs-1")), ("RS256", "RS384"))
    assert {key.alg for key in (keys.find(None, "RS256"), keys.find(None, "RS384")) if key} == {"RS256", "RS384"}


def algorithms_of(keys: KeySet) -> set[str]:
    return {alg for alg in ASYMMETRIC_ALGORITHMS if keys.find(None, alg) is not None}


def test_a_pem_key_yields_only_the_algorithms_its_type_and_curve_fit() -> None:
    every = ASYMMETRIC_ALGORITHMS
    assert algorithms_of(key_set_from_pem(public_pem(private_key("rs-1")), every)) == {"RS256", "RS384", "RS512"}
    assert algorithms_of(key_set_from_pem(public_pem(private_key("es-1")), every)) == {"ES256"}
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    p384_pem = p384.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    assert algorithms_of(key_set_from_pem(p384_pem, every)) == {"ES384"}
    with pytest.raises(ValueError, match=r"^the public key fits none of the allowed algorithms$"):
        key_set_from_pem(public_pem(private_key("rs-1")), ("ES256", "ES384", "ES512"))
    with pytest.raises(ValueError, match=r"^the public key fits none of the allowed algorithms$"):
        key_set_from_pem(p384_pem, ("RS256", "ES256"))
    k256 = ec.generate_private_key(ec.SECP256K1()).public_key()  # a curve no JWS algorithm here uses
    with pytest.raises(ValueError, match=r"^the public key fits none of the allowed algorithms$"):
        key_set_from_pem(k256.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode(), every)


async def test_one_timeout_bounds_finding_the_uri_and_fetching_the_keys() -> None:
    async def slow_resolve() -> str:
        await anyio.sleep(5)
        return URI

    cache = JwksCache(httpx.AsyncClient(), slow_resolve, allowed_algorithms=("RS256",), timeout_seconds=0.2)
    with pytest.raises(FetchError) as failed:
        await cache.find("rs-1", "RS256")
    assert (failed.value.reason, failed.value.detail) == ("timeout", "no key set within 0.2 s")


@respx.mock
async def test_a_configured_timeout_longer_than_the_http_default_reaches_the_key_set_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The key set request gets the configured timeout, not request_json's 5 s default (which
    would cut a longer configured wait short); checked at the call rather than by waiting 5 s."""
    given: list[float] = []

    async def recording_request(*args: Any, total_timeout: float, **kwargs: Any) -> Any:
        given.append(total_timeout)
        return await request_json(*args, total_timeout=total_timeout, **kwargs)

    monkeypatch.setattr(jwks, "request_json", recording_request)
    respx.get(URI).mock(return_value=GOOD)
    assert await make_cache(Clock(), timeout_seconds=30).find("rs-1", "RS256") is not None
    assert given == [30]
