"""The JWKS cache: single-flight, TTL, max-age, rate-limited refresh, stale-on-error, bounded fetches."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import respx

from oscal_mcp_auth.http import FetchError
from oscal_mcp_auth.jwks import JwksCache, KeySet, max_age
from tests.auth.keys import public_keys

pytestmark = pytest.mark.anyio
URI = "https://as.example.com/jwks"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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
