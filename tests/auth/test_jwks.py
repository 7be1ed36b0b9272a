"""The JWKS cache: single-flight, TTL, max-age, rate-limited refresh, stale-on-error with a
limit, bounded fetches."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
import respx

from oscal_mcp_auth import AuthConfig, TokenRejected
from oscal_mcp_auth.backends.jwt import JwtSettings, JwtVerifier
from oscal_mcp_auth.http import FetchError
from oscal_mcp_auth.jwks import MAX_DELTA_SECONDS, JwksCache, KeySet, KeysExpired, max_age
from tests.auth.jwks_fakes import Clock
from tests.auth.keys import ISSUER, RESOURCE, mint, public_keys

pytestmark = pytest.mark.anyio
URI = "https://as.example.com/jwks"


def make_cache(clock: Clock, **options: Any) -> JwksCache:
    async def resolve() -> str:
        return URI

    settings: dict[str, Any] = {
        "allowed_algorithms": ("RS256", "ES256"),
        "cache_seconds": 300,
        "min_refresh_seconds": 30,
    }
    settings.update(options)
    return JwksCache(httpx.AsyncClient(), resolve, clock=clock, **settings)


@respx.mock
async def test_concurrent_first_use_fetches_once() -> None:
    route = respx.get(URI).mock(return_value=httpx.Response(200, json=public_keys()))
    cache = make_cache(Clock())
    found = await asyncio.gather(*(cache.find("rs-1", "RS256") for _ in range(50)))
    assert all(key is not None and key.kid == "rs-1" for key in found)
    assert route.call_count == 1


@respx.mock
async def test_keys_are_reused_until_the_ttl_then_refetched() -> None:
    route = respx.get(URI).mock(return_value=httpx.Response(200, json=public_keys()))
    clock = Clock()
    cache = make_cache(clock)
    await cache.find("rs-1", "RS256")
    clock.now += 299
    await cache.find("rs-1", "RS256")
    assert route.call_count == 1
    clock.now += 2
    await cache.find("rs-1", "RS256")
    assert route.call_count == 2


@respx.mock
@pytest.mark.parametrize(("header", "expected_ttl"), [("max-age=60", 60), ("max-age=5", 30), ("max-age=99999", 300)])
async def test_cache_control_max_age_is_honoured_within_bounds(header: str, expected_ttl: int) -> None:
    route = respx.get(URI).mock(return_value=httpx.Response(200, json=public_keys(), headers={"cache-control": header}))
    clock = Clock()
    cache = make_cache(clock)
    await cache.find("rs-1", "RS256")
    clock.now += expected_ttl - 0.5
    await cache.find("rs-1", "RS256")
    assert route.call_count == 1
    clock.now += 1
    await cache.find("rs-1", "RS256")
    assert route.call_count == 2


@respx.mock
async def test_unknown_kid_refreshes_at_most_once_per_interval() -> None:
    route = respx.get(URI).mock(return_value=httpx.Response(200, json=public_keys()))
    clock = Clock()
    cache = make_cache(clock)
    await cache.find("rs-1", "RS256")
    clock.now += 31
    for n in range(20):
        assert await cache.find(f"forged-{n}", "RS256") is None
    assert route.call_count == 2  # the first fetch, then one refresh for the whole flood
    clock.now += 31
    assert await cache.find("forged-again", "RS256") is None
    assert route.call_count == 3


@respx.mock
async def test_rotated_key_is_found_after_a_refresh() -> None:
    rotated = {"keys": [dict(public_keys()["keys"][0], kid="rs-2")]}
    route = respx.get(URI).mock(
        side_effect=[httpx.Response(200, json=public_keys()), httpx.Response(200, json=rotated)]
    )
    clock = Clock()
    cache = make_cache(clock)
    await cache.find("rs-1", "RS256")
    clock.now += 31
    key = await cache.find("rs-2", "RS256")
    assert key is not None and key.kid == "rs-2"
    assert cache.current is not None and "rs-1" not in cache.current.kids
    assert route.call_count == 2


@respx.mock
@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={"error": "down"}),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json={"no": "keys"}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    ],
)
async def test_stale_keys_keep_serving_when_a_refresh_fails(failure: Any) -> None:
    responses = [httpx.Response(200, json=public_keys()), failure, httpx.Response(200, json=public_keys())]
    route = respx.get(URI).mock(side_effect=responses)
    clock = Clock()
    cache = make_cache(clock)
    await cache.find("rs-1", "RS256")
    clock.now += 301  # stale
    assert await cache.find("rs-1", "RS256") is not None  # refresh failed: last good set served
    assert route.call_count == 2
    assert await cache.find("rs-1", "RS256") is not None  # within the cool-down: no new attempt
    assert route.call_count == 2
    clock.now += 31
    assert await cache.find("rs-1", "RS256") is not None  # recovered
    assert route.call_count == 3


@respx.mock
async def test_cold_start_failure_fails_closed_and_cools_down() -> None:
    route = respx.get(URI).mock(return_value=httpx.Response(503))
    clock = Clock()
    cache = make_cache(clock)
    with pytest.raises(FetchError):
        await cache.find("rs-1", "RS256")
    with pytest.raises(FetchError):
        await cache.find("rs-1", "RS256")
    assert route.call_count == 1


@respx.mock
async def test_oversized_jwks_is_refused() -> None:
    respx.get(URI).mock(return_value=httpx.Response(200, content=b'{"keys": [' + b" " * 5000 + b"]}"))
    cache = make_cache(Clock(), max_bytes=1024)
    with pytest.raises(FetchError) as error:
        await cache.find("rs-1", "RS256")
    assert error.value.reason == "too_large"


def test_key_set_filters_unusable_keys() -> None:
    keys = public_keys()["keys"]
    document = {
        "keys": [
            *keys,
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},  # symmetric: never
            dict(keys[0], kid="enc", use="enc"),  # encryption key: never
            dict(keys[0], kid="rs-only-384", alg="RS384"),  # alg not allowed
            "not a key",
        ]
    }
    key_set = KeySet.from_jwks(document, ("RS256", "ES256"))
    assert key_set.kids == {"rs-1", "es-1"}
    assert key_set.find("rs-1", "ES256") is None  # an RSA key never verifies ES256
    assert key_set.find("es-1", "ES256") is not None


def test_max_age_parsing() -> None:
    assert max_age(httpx.Headers({"cache-control": "public, max-age=120"})) == 120
    assert max_age(httpx.Headers({"cache-control": "no-cache"})) is None


def slow_jwks(document: dict[str, Any]) -> Any:
    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.2)
        return httpx.Response(200, json=document)

    return answer


@respx.mock
async def test_requests_arriving_during_the_first_fetch_join_it() -> None:
    route = respx.get(URI).mock(side_effect=slow_jwks(public_keys()))
    cache = make_cache(Clock())  # a frozen clock: only joining the flight can serve the late ones

    async def arrive(n: int) -> Any:
        await asyncio.sleep(0.01 * n)
        return await cache.find("rs-1", "RS256")

    found = await asyncio.gather(*(arrive(n) for n in range(10)))
    assert all(key is not None for key in found)
    assert route.call_count == 1


@respx.mock
async def test_requests_for_a_rotated_kid_during_the_refresh_join_it() -> None:
    rotated = {"keys": [dict(public_keys()["keys"][0], kid="rs-2")]}
    route = respx.get(URI).mock(side_effect=[httpx.Response(200, json=public_keys()), slow_jwks(rotated)])
    clock = Clock()
    cache = make_cache(clock)
    await cache.find("rs-1", "RS256")
    clock.now += 31

    async def arrive(n: int) -> Any:
        await asyncio.sleep(0.01 * n)
        return await cache.find("rs-2", "RS256")

    found = await asyncio.gather(*(arrive(n) for n in range(6)))
    assert all(key is not None for key in found)
    assert route.call_count == 2


@respx.mock
async def test_one_timeout_covers_discovery_and_the_key_set() -> None:
    async def slow_discovery() -> str:
        await asyncio.sleep(0.3)
        return URI

    respx.get(URI).mock(side_effect=slow_jwks(public_keys()))  # 0.2 s more
    cache = JwksCache(httpx.AsyncClient(), slow_discovery, allowed_algorithms=("RS256",), timeout_seconds=0.4)
    with pytest.raises(FetchError) as error:
        await cache.find("rs-1", "RS256")
    assert error.value.reason == "timeout"


# --- Stale keys expire (issue #12 item 5) ------------------------------------------------------------


def failing_after_first_fetch() -> list[Any]:
    return [httpx.Response(200, json=public_keys())] + [httpx.Response(503)] * 20


@respx.mock
async def test_stale_keys_are_dropped_past_max_stale_and_requests_fail_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    route = respx.get(URI).mock(side_effect=[*failing_after_first_fetch()[:3], httpx.Response(200, json=public_keys())])
    clock = Clock()
    cache = make_cache(clock, max_stale_seconds=3_600)
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        await cache.find("rs-1", "RS256")
        clock.now += 301  # stale, and the AS fails: the last good set keeps serving
        assert await cache.find("rs-1", "RS256") is not None
        assert "stale serving started" in caplog.text
        clock.now += 3_300  # 3601 s since the last successful refresh
        with pytest.raises(KeysExpired) as expired:
            await cache.find("rs-1", "RS256")
        assert expired.value.reason == "keys_unavailable"
        assert cache.current is None
        assert "stale serving stopped" in caplog.text
        clock.now += 10  # within the cool-down: still refused, without asking the AS
        with pytest.raises(KeysExpired):
            await cache.find("rs-1", "RS256")
        assert route.call_count == 3
        clock.now += 31  # the AS answers again: keys are back
        assert await cache.find("rs-1", "RS256") is not None
    assert caplog.text.count("stale serving started") == 1
    assert caplog.text.count("stale serving stopped") == 2  # dropped, then refreshed after the drop


@respx.mock
async def test_stale_keys_expire_even_while_no_refresh_is_allowed() -> None:
    respx.get(URI).mock(side_effect=failing_after_first_fetch())
    clock = Clock()
    cache = make_cache(clock, max_stale_seconds=320)
    await cache.find("rs-1", "RS256")
    clock.now += 301
    assert await cache.find("rs-1", "RS256") is not None  # refresh failed at age 301: stale serving
    assert cache.current is not None
    clock.now += 20  # age 321, inside the 30 s cool-down: no fetch, but the set is too old
    assert cache.current is None
    with pytest.raises(KeysExpired):
        await cache.find("rs-1", "RS256")


@respx.mock
async def test_a_successful_refresh_ends_stale_serving(caplog: pytest.LogCaptureFixture) -> None:
    good = httpx.Response(200, json=public_keys())
    respx.get(URI).mock(side_effect=[good, httpx.Response(503), good])
    clock = Clock()
    cache = make_cache(clock, max_stale_seconds=3_600)
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        await cache.find("rs-1", "RS256")
        clock.now += 301
        await cache.find("rs-1", "RS256")
        clock.now += 31
        await cache.find("rs-1", "RS256")
        clock.now += 3_600  # long after: the refresh above reset the age
        assert cache.current is not None
    assert "stale serving stopped" in caplog.text


@respx.mock
async def test_the_jwt_verifier_refuses_with_keys_unavailable_once_keys_expired() -> None:
    respx.get(URI).mock(side_effect=failing_after_first_fetch())
    clock = Clock()
    cache = make_cache(clock, max_stale_seconds=600)
    verifier = JwtVerifier(AuthConfig.from_mapping({"OSCAL_AUTH_ISSUER_URL": ISSUER,
                                                    "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE}),
                           JwtSettings(), cache)  # fmt: skip
    assert (await verifier.verify_token(mint(jti="a"))).client_id == "client-1"
    clock.now += 601
    with pytest.raises(TokenRejected) as rejected:
        await verifier.verify_token(mint(jti="a"))  # even a token verified (and cached) before
    assert rejected.value.reason == "keys_unavailable"


def test_max_stale_is_a_jwt_setting() -> None:
    assert JwtSettings().jwks_max_stale_seconds == 86_400
    assert JwtSettings.model_validate({"jwks_max_stale_seconds": "60"}).jwks_max_stale_seconds == 60


# --- Cache-Control max-age with thousands of digits (issue #12 item 8) -----------------------------


def test_max_age_is_bounded_however_many_digits_it_has() -> None:
    assert max_age(httpx.Headers({"cache-control": "max-age=" + "9" * 5000})) == MAX_DELTA_SECONDS
    assert max_age(httpx.Headers({"cache-control": "max-age=" + "0" * 5000 + "60"})) == 60
    assert max_age(httpx.Headers({"cache-control": "max-age=2147483649"})) == MAX_DELTA_SECONDS


@respx.mock
async def test_a_huge_max_age_on_a_refresh_keeps_the_keys_and_the_cache_bounds() -> None:
    huge = {"cache-control": "max-age=" + "9" * 5000}
    rotated = {"keys": [dict(public_keys()["keys"][0], kid="rs-2")]}
    route = respx.get(URI).mock(
        side_effect=[httpx.Response(200, json=public_keys()), httpx.Response(200, json=rotated, headers=huge),
                     httpx.Response(200, json=public_keys())]
    )  # fmt: skip
    clock = Clock()
    cache = make_cache(clock)
    await cache.find("rs-1", "RS256")
    clock.now += 301
    key = await cache.find("rs-2", "RS256")  # used to raise ValueError out of the fetch
    assert key is not None and key.kid == "rs-2"
    clock.now += 301  # fresh for cache_seconds (300), not for 10^4999 s
    await cache.find("rs-2", "RS256")
    assert route.call_count == 3
