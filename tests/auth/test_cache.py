"""The in-process caches (oscal_mcp_auth.cache) on a controllable clock: expiry, the LRU bound, the
memory tier in front of a shared store, the deployment scope of shared keys, and single flight."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from typing import Any

import pytest

from oscal_mcp_auth import AuthConfig, ConfigurationError
from oscal_mcp_auth.cache import Codec, MemoryCache, SingleFlight, TieredCache, cache_key, result_cache, shared_store

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeStore:
    """An in-process `SharedStore`: entries with their remaining lifetime; `down` answers like an outage."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[Any, float]] = {}
        self.down = False
        self.asked: list[str] = []
        self.closed = False

    async def get(self, key: str) -> tuple[Any, float] | None:
        self.asked.append(key)
        return None if self.down else self.entries.get(key)

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        if not self.down:
            self.entries[key] = (value, ttl_seconds)

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool | None:
        self.asked.append(key)
        if self.down:
            return None
        if key in self.entries:
            return False
        self.entries[key] = (value, ttl_seconds)
        return True

    async def aclose(self) -> None:
        self.closed = True


def codec() -> Codec[str]:
    """Built in each test: a codec built at import would escape a mutation of `Codec` itself."""
    return Codec(encode=lambda value: {"v": value}, decode=lambda raw: str(raw["v"]))


def test_the_cache_key_is_the_sha256_of_the_token_never_the_token() -> None:
    assert cache_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


async def test_an_entry_lives_until_its_ttl_and_not_a_moment_longer() -> None:
    clock = Clock()
    cache: MemoryCache[str] = MemoryCache(10, clock)
    await cache.set("k", "v", 30)
    clock.now += 29.999
    assert await cache.get("k") == "v"
    clock.now += 0.001
    assert await cache.get("k") is None
    assert len(cache) == 0  # an expired entry is dropped when met


async def test_a_zero_or_negative_ttl_stores_nothing_and_drops_the_old_entry() -> None:
    cache: MemoryCache[str] = MemoryCache(10, Clock())
    await cache.set("k", "v", 30)
    await cache.set("k", "new", 0)
    assert len(cache) == 0
    await cache.set("k", "v", -1)
    assert (len(cache), await cache.get("k")) == (0, None)
    await cache.set("k", "v", 0.5)  # any positive ttl is stored
    assert await cache.get("k") == "v"


async def test_the_least_recently_used_entry_goes_first_past_the_bound() -> None:
    cache: MemoryCache[str] = MemoryCache(2, Clock())
    await cache.set("a", "1", 30)
    await cache.set("b", "2", 30)
    assert await cache.get("a") == "1"  # a is now the most recently used
    await cache.set("c", "3", 30)
    assert (await cache.get("a"), await cache.get("b"), await cache.get("c")) == ("1", None, "3")
    await cache.set("a", "again", 30)  # rewriting refreshes recency too
    await cache.set("d", "4", 30)
    assert (await cache.get("a"), await cache.get("c"), len(cache)) == ("again", None, 2)


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match=r"^max_entries must be at least 1$"):
        MemoryCache(0)
    assert MemoryCache(1).max_entries == 1


async def test_add_stores_only_when_no_live_entry_exists() -> None:
    clock = Clock()
    cache: MemoryCache[str] = MemoryCache(10, clock)
    assert await cache.add("k", "first", 10) is True
    assert await cache.add("k", "second", 10) is False
    assert await cache.get("k") == "first"


async def test_a_shared_hit_fills_memory_for_the_time_it_has_left() -> None:
    clock, store = Clock(), FakeStore()
    store.entries["k"] = ({"v": "shared"}, 5.0)
    cache = TieredCache(MemoryCache(10, clock), store, codec())
    assert await cache.get("k") == "shared"
    store.entries.clear()
    assert await cache.get("k") == "shared"  # from memory now
    clock.now += 5
    assert await cache.get("k") is None


async def test_a_memory_hit_does_not_ask_the_shared_store() -> None:
    store = FakeStore()
    cache = TieredCache(MemoryCache(10, Clock()), store, codec())
    await cache.set("k", "v", 30)
    assert await cache.get("k") == "v"
    assert store.asked == []
    assert store.entries == {"k": ({"v": "v"}, 30)}  # written through, encoded


async def test_a_shared_entry_that_cannot_be_decoded_is_a_logged_miss(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeStore()
    key = cache_key("token")
    store.entries[key] = ({"wrong": 1}, 30.0)
    cache = TieredCache(MemoryCache(10, Clock()), store, codec())
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        assert await cache.get(key) is None
    assert caplog.messages == [f"shared cache entry {key[:16]} could not be decoded; ignored"]
    assert len(cache.local) == 0


async def test_add_in_tiers_reports_a_value_present_in_either_tier() -> None:
    store = FakeStore()
    cache = TieredCache(MemoryCache(10, Clock()), store, codec())
    store.entries["elsewhere"] = ({"v": "x"}, 30.0)
    assert await cache.add("elsewhere", "mine", 30) is False
    assert await cache.get("elsewhere") == "mine"  # remembered here as present from now on
    assert await cache.add("new", "v", 30) is True
    store.asked.clear()
    assert await cache.add("new", "v", 30) is False
    assert store.asked == []  # memory knew: Redis is not asked


async def test_add_while_the_store_is_down_counts_on_memory_alone() -> None:
    store = FakeStore()
    store.down = True
    cache = TieredCache(MemoryCache(10, Clock()), store, codec())
    assert await cache.add("k", "v", 30) is True
    assert await cache.add("k", "v", 30) is False


async def test_closing_the_tiered_cache_closes_the_shared_store() -> None:
    store = FakeStore()
    await TieredCache(MemoryCache(10, Clock()), store, codec()).aclose()
    assert store.closed


def test_without_a_cache_url_the_result_cache_is_memory_of_the_given_size() -> None:
    cache = result_cache(AuthConfig(), "x", 7, codec())
    assert isinstance(cache, MemoryCache) and cache.max_entries == 7


def test_a_shared_store_needs_a_cache_url() -> None:
    with pytest.raises(ValueError, match=r"^no OSCAL_AUTH_CACHE_URL configured$"):
        shared_store(AuthConfig(), "x")


CACHED = {"OSCAL_AUTH_CACHE_URL": "redis://127.0.0.1:1/0", "OSCAL_AUTH_CACHE_SECRET": "s" * 32}


def test_without_the_redis_extra_a_cache_url_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "oscal_mcp_auth.redis_cache", None)  # as if redis were not installed
    with pytest.raises(ConfigurationError) as refused:
        shared_store(AuthConfig.from_mapping(CACHED), "x")
    assert str(refused.value) == (
        "OSCAL_AUTH_CACHE_URL needs the Python package 'redis', which is not installed; "
        "install it with: pip install 'oscal-mcp[redis]'"
    )


def test_an_unusable_cache_url_names_the_error_but_not_the_url() -> None:
    broken = AuthConfig.from_mapping({**CACHED, "OSCAL_AUTH_CACHE_URL": "redis://:hunter2@cache:notaport/0"})
    with pytest.raises(ConfigurationError) as refused:
        shared_store(broken, "x")
    assert str(refused.value) == "OSCAL_AUTH_CACHE_URL is not usable: ValueError"


async def test_concurrent_callers_share_one_run_of_the_work() -> None:
    flight: SingleFlight[str] = SingleFlight()
    release, runs = asyncio.Event(), []

    async def work() -> str:
        runs.append(1)
        await release.wait()
        return "done"

    callers = [asyncio.ensure_future(flight.run("k", work)) for _ in range(3)]
    await asyncio.sleep(0)
    assert (flight.running("k"), flight.running("other"), len(flight)) == (True, False, 1)
    release.set()
    assert await asyncio.gather(*callers) == ["done"] * 3
    assert (runs, len(flight), flight.running("k")) == ([1], 0, False)


async def test_a_cancelled_caller_does_not_cancel_the_work_for_the_others() -> None:
    flight: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()

    async def work() -> str:
        await release.wait()
        return "done"

    leaving = asyncio.ensure_future(flight.run("k", work))
    staying = asyncio.ensure_future(flight.run("k", work))
    await asyncio.sleep(0)
    leaving.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await staying == "done"
    assert leaving.cancelled()


async def test_a_failure_reaches_every_caller_and_the_next_call_runs_again() -> None:
    flight: SingleFlight[str] = SingleFlight()
    attempts = []

    async def work() -> str:
        attempts.append(1)
        await asyncio.sleep(0)
        if len(attempts) == 1:
            raise RuntimeError("down")
        return "up"

    results = await asyncio.gather(flight.run("k", work), flight.run("k", work), return_exceptions=True)
    assert [str(result) for result in results] == ["down", "down"]
    assert await flight.run("k", work) == "up"
    assert len(attempts) == 2


async def test_a_failure_nobody_awaits_any_more_is_not_reported_as_lost() -> None:
    """Every caller left (cancelled): the work's outcome is retrieved, so the event loop reports
    neither a lost task exception nor an error in the completion callback."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        for outcome in ("fails", "cancelled"):
            flight: SingleFlight[str] = SingleFlight()
            started = asyncio.Event()

            async def work(outcome: str = outcome, started: asyncio.Event = started) -> str:
                started.set()
                await asyncio.sleep(0)
                if outcome == "cancelled":
                    raise asyncio.CancelledError  # the work itself cancelled, as at shutdown
                raise RuntimeError("down")

            caller = asyncio.ensure_future(flight.run("k", work))
            await started.wait()
            caller.cancel()
            for _ in range(5):
                await asyncio.sleep(0)
            del flight, caller
            gc.collect()
    finally:
        loop.set_exception_handler(previous)
    assert reported == []
