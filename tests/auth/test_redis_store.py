"""`RedisStore` against a real redis-server: what it logs for a malformed or unauthenticated entry
and for an outage, each line naming only the key's first 16 characters (a token hash, never a token)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket

import anyio
import pytest

from oscal_mcp_auth.redis_cache import RedisStore, seal
from tests.auth.test_redis_cache import SECRET, Clock, raw_set
from tests.redis_server import RedisServer, free_port

pytestmark = pytest.mark.anyio
KEY = "0123456789abcdefTAIL"  # longer than the 16 characters a log line shows


async def test_an_authentic_entry_that_is_not_an_envelope_is_a_logged_miss(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore(redis_server.url, "m:", SECRET.encode())
    raw_set(redis_server, f"m:{KEY}", seal(SECRET.encode(), f"m:{KEY}", b'{"v": 1}').decode())
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        assert await store.get(KEY) is None
    assert caplog.messages == ["shared cache (redis) entry 0123456789abcdef is malformed; ignored"]
    await store.aclose()


async def test_unauthenticated_entries_are_logged_again_once_a_quiet_minute_has_passed(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    store = RedisStore(redis_server.url, "u:", SECRET.encode(), monotonic=clock)
    raw_set(redis_server, f"u:{KEY}", "forged")
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        assert await store.get(KEY) is None
        clock.now += 59.9  # within the burst: counted only; the burst now ends 60 s from here
        assert await store.get(KEY) is None
        clock.now += 60.0  # exactly a quiet minute
        assert await store.get(KEY) is None
    line = (
        "shared cache (redis) entry 0123456789abcdef is unauthenticated (edited, moved, planted or written with "
        "another OSCAL_AUTH_CACHE_SECRET); ignored. {} such entries so far; more in this burst are counted, "
        "not logged"
    )
    assert caplog.messages == [line.format(1), line.format(3)]
    await store.aclose()


async def test_an_outage_is_logged_once_with_the_error_type(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", "o:", SECRET.encode())  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        assert await store.get(KEY) is None
    assert caplog.messages == [
        "shared cache (redis) unreachable: ConnectionError; using the in-memory cache, retrying every 5 s"
    ]
    await store.aclose()


async def test_every_outage_is_logged_once_and_each_recovery_too(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    pause = Clock()
    store = RedisStore(redis_server.url, "r:", SECRET.encode(), monotonic=pause)
    down = "shared cache (redis) unreachable: ConnectionError; using the in-memory cache, retrying every 5 s"
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        redis_server.stop()
        await store.set(KEY, 1, 30)  # a write is what meets the outage first
        await store.get(KEY)
        redis_server.start()
        pause.now += 5
        assert await store.get(KEY) is None
        redis_server.stop()
        pause.now += 5
        assert await store.get(KEY) is None
    assert caplog.messages == [down, "shared cache (redis) reachable again", down]
    await store.aclose()


def sealed(key: str, payload: bytes) -> bytes:
    """The documented entry format, computed here independently: hex HMAC-SHA256 over the key
    name's length (4 bytes, big-endian), the key name and the payload; then the payload."""
    name = key.encode()
    mac = hmac.new(SECRET.encode(), len(name).to_bytes(4, "big") + name + payload, hashlib.sha256).hexdigest()
    return mac.encode() + payload


async def test_entries_are_sealed_in_the_documented_format_so_every_version_reads_them(
    redis_server: RedisServer,
) -> None:
    clock = Clock()
    store = RedisStore(redis_server.url, "f:", SECRET.encode(), clock=clock)
    raw_set(redis_server, f"f:{KEY}", sealed(f"f:{KEY}", b'{"exp":1030.0,"v":"theirs"}').decode())
    assert await store.get(KEY) == ("theirs", 30.0)
    await store.set("mine", "ours", 30)
    assert seal(SECRET.encode(), "f:mine", b"x") == sealed("f:mine", b"x")
    assert await RedisStore(redis_server.url, "f:", SECRET.encode(), clock=clock).get("mine") == ("ours", 30.0)
    await store.aclose()


async def test_an_entry_is_a_hit_until_its_expiry_and_a_miss_from_then_on(redis_server: RedisServer) -> None:
    clock = Clock()
    store = RedisStore(redis_server.url, "e:", SECRET.encode(), clock=clock)
    await store.set(KEY, "v", 30)
    clock.now += 29.5
    assert await store.get(KEY) == ("v", 0.5)
    clock.now += 0.5
    assert await store.get(KEY) is None
    await store.aclose()


async def test_set_replaces_an_entry_and_add_does_not(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, "s:", SECRET.encode(), clock=Clock())
    await store.set(KEY, "first", 30)
    await store.set(KEY, "second", 30)
    assert await store.add(KEY, "third", 30) is False
    assert await store.get(KEY) == ("second", 30.0)
    await store.aclose()


async def test_a_zero_ttl_stores_nothing_and_a_sub_second_one_is_stored(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, "z:", SECRET.encode(), clock=Clock())
    assert await store.add("zero", "v", 0) is None
    await store.set("zero", "v", 0)
    assert await store.get("zero") is None
    assert await store.add("half", "v", 0.5) is True
    assert await store.get("half") == ("v", 0.5)
    await store.aclose()


async def test_a_redis_that_accepts_but_never_answers_is_a_miss_not_a_hang() -> None:
    """The operation timeout: a stalled Redis costs a bounded wait, then the request carries on."""
    with socket.create_server(("127.0.0.1", 0)) as stalled:  # accepts connections, never replies
        store = RedisStore(f"redis://127.0.0.1:{stalled.getsockname()[1]}/0", "h:", SECRET.encode())
        with anyio.fail_after(60):  # turns a regression into a failure instead of a hung suite
            assert await store.get(KEY) is None
        await store.aclose()
