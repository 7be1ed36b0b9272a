"""The Redis-backed shared cache against a real redis-server: sharing, expiry, failure, recovery,
and entries authenticated with the cache secret."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from pathlib import Path

import httpx
import pytest
import respx
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig, ConfigurationError
from oscal_mcp_auth.backends.introspection import CACHE_CODEC, Refusal
from oscal_mcp_auth.cache import MemoryCache, TieredCache, result_cache, shared_store
from oscal_mcp_auth.jwks import JwksCache
from oscal_mcp_auth.redis_cache import RETRY_AFTER_SECONDS, RedisStore, seal
from tests.auth.keys import public_keys
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio
SECRET = "s" * 32


def config(
    redis: RedisServer, resource: str = "https://oscal.example.com/mcp", secret: str = SECRET, leeway: str = "60"
) -> AuthConfig:
    return AuthConfig.from_mapping(
        {"OSCAL_AUTH_ISSUER_URL": "https://as.example.com", "OSCAL_AUTH_RESOURCE_SERVER_URL": resource,
         "OSCAL_AUTH_CACHE_URL": redis.url, "OSCAL_AUTH_CACHE_SECRET": secret, "OSCAL_AUTH_LEEWAY_SECONDS": leeway}
    )  # fmt: skip


ACCESS = AccessToken(token="", client_id="c1", scopes=["oscal:read"], expires_at=2_000_000_000, subject="u1")


async def test_a_result_stored_by_one_replica_is_read_by_another(redis_server: RedisServer) -> None:
    replica_a = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    replica_b = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    await replica_a.set("k1", ACCESS, 30)
    await replica_a.set("k2", Refusal("inactive", "active=false"), 30)
    assert await replica_b.get("k1") == ACCESS
    assert await replica_b.get("k2") == Refusal("inactive", "active=false")


def plant(redis: RedisServer, key: str, envelope: object) -> None:
    """Store `envelope` as an entry the replicas trust: sealed with the deployment's cache secret."""
    payload = json.dumps(envelope, separators=(",", ":")).encode()
    raw_set(redis, key, seal(SECRET.encode(), key, payload).decode())


async def test_entries_expire_in_redis_too(redis_server: RedisServer) -> None:
    cache = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    await cache.set("k1", ACCESS, 30)
    [key] = stored_keys(redis_server)
    assert 29_000 < redis_server.integer("PTTL", key) <= 30_000  # Redis itself drops the key with the entry


async def test_an_entry_past_its_expiry_is_a_miss_even_if_redis_still_holds_it(redis_server: RedisServer) -> None:
    cache = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    await cache.set("k1", ACCESS, 30)
    [key] = stored_keys(redis_server)
    envelope = json.loads(raw_get(redis_server, key)[64:])  # after the hex MAC
    plant(redis_server, key, {**envelope, "exp": time.time() - 1})
    fresh = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    assert isinstance(fresh, TieredCache)
    assert await fresh.get("k1") is None
    assert fresh.shared.unauthenticated_entries == 0  # type: ignore[attr-defined]  # a miss by its expiry


async def test_deployments_sharing_one_redis_are_isolated(redis_server: RedisServer) -> None:
    ours = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    theirs = result_cache(config(redis_server, "https://other.example.com/mcp"), "introspection", 100, CACHE_CODEC)
    await ours.set("k1", ACCESS, 30)
    assert await theirs.get("k1") is None


async def test_no_token_is_written_to_redis(redis_server: RedisServer) -> None:
    cache = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    await cache.set("k1", ACCESS.model_copy(update={"token": "secret-token-value"}), 30)
    keys = redis_server.command("KEYS", "*")
    assert b"oscal_mcp_auth:introspection:" in keys
    dump = b"".join(redis_server.command("GET", key.decode()) for key in keys.split(b"\r\n") if b"oscal" in key)
    assert b"secret-token-value" not in dump
    assert b"c1" in dump


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_redis_down_falls_back_to_memory_and_recovers(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(result_cache(config(redis_server), "introspection", 100, CACHE_CODEC), TieredCache)
    pause = Clock()  # the monotonic clock of the pause between retries
    cache = TieredCache(
        MemoryCache(100), RedisStore(redis_server.url, "t:", SECRET.encode(), monotonic=pause), CACHE_CODEC
    )
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        await cache.set("k1", ACCESS, 30)  # stored in memory despite the outage
        assert await cache.get("k1") == ACCESS
        assert await cache.get("missing") is None  # a miss, never an error
        assert caplog.text.count("shared cache (redis) unreachable") == 1
        redis_server.start()  # back, on the same port
        await cache.set("k2", ACCESS, 30)
        assert redis_server.command("EXISTS", "t:k2") == b":0\r\n"  # still pausing: memory only
        pause.now += RETRY_AFTER_SECONDS
        await cache.set("k3", ACCESS, 30)
    assert "shared cache (redis) reachable again" in caplog.text
    replica = TieredCache(MemoryCache(100), RedisStore(redis_server.url, "t:", SECRET.encode()), CACHE_CODEC)
    assert await replica.get("k3") == ACCESS  # written to Redis again


@pytest.mark.parametrize(
    "stored", [{"refused": [1]}, {"accepted": {"client_id": 5}}, {"accepted": None}, [], "text", None]
)
async def test_an_entry_the_codec_cannot_decode_is_a_miss(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture, stored: object
) -> None:
    cache = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    await cache.set("k1", ACCESS, 30)
    [key] = stored_keys(redis_server)
    plant(redis_server, key, {"exp": time.time() + 30, "v": stored})
    fresh = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        assert await fresh.get("k1") is None
    assert "could not be decoded" in caplog.text


def test_cache_url_is_validated_without_echoing_it() -> None:
    with pytest.raises(ConfigurationError) as error:
        AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_URL": "http://user:hunter2@cache:6379"})
    assert "hunter2" not in str(error.value)
    valid = {"OSCAL_AUTH_CACHE_URL": "redis://:hunter2@cache:6379", "OSCAL_AUTH_CACHE_SECRET": SECRET}
    assert "hunter2" not in repr(AuthConfig.from_mapping(valid))
    assert SECRET not in repr(AuthConfig.from_mapping(valid))


def test_without_a_cache_url_the_cache_is_local() -> None:
    assert isinstance(result_cache(AuthConfig(), "x", 10, CACHE_CODEC), MemoryCache)


@respx.mock
async def test_a_jwks_fetched_by_one_replica_serves_the_others(redis_server: RedisServer) -> None:
    route = respx.get("https://as.example.com/jwks").mock(return_value=httpx.Response(200, json=public_keys()))

    def replica() -> JwksCache:
        async def uri() -> str:
            return "https://as.example.com/jwks"

        return JwksCache(
            httpx.AsyncClient(), uri, allowed_algorithms=("RS256", "ES256"),
            shared=shared_store(config(redis_server), "jwks"),
        )  # fmt: skip

    replicas = [replica() for _ in range(3)]
    for jwks in replicas:
        assert await jwks.find("rs-1", "RS256") is not None
    assert route.call_count == 1


async def test_policies_that_change_a_result_do_not_share_entries(redis_server: RedisServer) -> None:
    strict = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC, policy="url|rs|True")
    lax = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC, policy="url|rs|False")
    await lax.set("k1", ACCESS, 30)
    assert await strict.get("k1") is None


async def test_deployments_with_another_leeway_do_not_share_entries(redis_server: RedisServer) -> None:
    """A result checked with a wider leeway may be wrong under a narrower one."""
    narrow = config(redis_server, leeway="0")
    wide = config(redis_server, leeway="300")
    await result_cache(wide, "introspection", 100, CACHE_CODEC).set("k1", ACCESS, 30)
    assert await result_cache(narrow, "introspection", 100, CACHE_CODEC).get("k1") is None


def test_an_unusable_cache_url_names_the_setting_not_the_password() -> None:
    broken = AuthConfig.from_mapping(
        {"OSCAL_AUTH_CACHE_URL": "redis://:hunter2@cache:notaport/0", "OSCAL_AUTH_CACHE_SECRET": SECRET}
    )
    with pytest.raises(ConfigurationError) as error:
        shared_store(broken, "introspection")
    assert "OSCAL_AUTH_CACHE_URL" in str(error.value)
    assert "hunter2" not in str(error.value)


# --- Entries are authenticated with OSCAL_AUTH_CACHE_SECRET (issue #12 item 1) -----------------------


def stored_keys(redis: RedisServer) -> list[str]:
    return [k for k in redis.command("KEYS", "*").decode().split("\r\n") if k.startswith("oscal_mcp_auth")]


def raw_get(redis: RedisServer, key: str) -> str:
    header, _, rest = redis.command("GET", key).decode().partition("\r\n")
    return rest[: int(header[1:])]


def raw_set(redis: RedisServer, key: str, value: str) -> None:
    """SET through RESP with the value as a bulk string, so quotes and spaces survive."""
    words = ["SET", key, value, "PX", "60000"]
    frame = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", redis.port), timeout=2) as sock:
        sock.sendall(frame.encode())
        assert sock.recv(16).startswith(b"+OK")


STRONG = ACCESS.model_copy(update={"client_id": "admin", "scopes": ["oscal:read", "oscal:write"]})


def tamperings(redis: RedisServer) -> dict[str, object]:
    """Ways to alter the entry of "weak" given the entries of "weak" and "strong" (same prefix)."""
    weak_key = next(k for k in stored_keys(redis) if k.endswith(":weak"))
    strong_key = next(k for k in stored_keys(redis) if k.endswith(":strong"))
    weak, strong = raw_get(redis, weak_key), raw_get(redis, strong_key)
    return {
        "moved": lambda: raw_set(redis, weak_key, strong),
        "edited": lambda: raw_set(redis, weak_key, weak.replace('"oscal:read"', '"oscal:read","oscal:write"')),
        "truncated": lambda: raw_set(redis, weak_key, weak[:-5]),
        "mac only": lambda: raw_set(redis, weak_key, weak[:64]),
        "empty": lambda: raw_set(redis, weak_key, ""),
        "plain json": lambda: raw_set(redis, weak_key, strong[64:]),
        "planted": lambda: raw_set(redis, weak_key.removesuffix("weak") + "planted", strong),
    }


@pytest.mark.parametrize("attack", ["moved", "edited", "truncated", "mac only", "empty", "plain json", "planted"])
async def test_an_altered_or_planted_entry_is_a_counted_miss(redis_server: RedisServer, attack: str) -> None:
    writer = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    await writer.set("weak", ACCESS, 30)
    await writer.set("strong", STRONG, 30)
    tamperings(redis_server)[attack]()  # type: ignore[operator]
    reader = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    assert isinstance(reader, TieredCache)
    assert await reader.get("planted" if attack == "planted" else "weak") is None
    assert reader.shared.unauthenticated_entries == 1  # type: ignore[attr-defined]


async def test_unauthenticated_entries_are_logged_once_per_burst(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    writer = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    for n in range(5):
        await writer.set(f"k{n}", ACCESS, 30)
    for key in stored_keys(redis_server):
        raw_set(redis_server, key, raw_get(redis_server, key)[:-1])
    reader = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        assert [await reader.get(f"k{n}") for n in range(5)] == [None] * 5
    assert caplog.text.count("unauthenticated") == 1
    assert reader.shared.unauthenticated_entries == 5  # type: ignore[attr-defined]
    assert SECRET not in caplog.text


async def test_replicas_with_different_secrets_do_not_share(redis_server: RedisServer) -> None:
    ours = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    theirs = result_cache(config(redis_server, secret="t" * 32), "introspection", 100, CACHE_CODEC)
    await ours.set("k1", ACCESS, 30)
    assert await theirs.get("k1") is None
    assert theirs.shared.unauthenticated_entries == 0  # type: ignore[attr-defined]  # other keys, not forgeries


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "OSCAL_AUTH_CACHE_URL needs OSCAL_AUTH_CACHE_SECRET"),
        ({"OSCAL_AUTH_CACHE_SECRET": "short-secret-hunter2"}, "OSCAL_AUTH_CACHE_SECRET is too short"),
        ({"OSCAL_AUTH_CACHE_SECRET": SECRET, "OSCAL_AUTH_CACHE_SECRET_FILE": "/x"}, "either"),
        ({"OSCAL_AUTH_CACHE_SECRET_FILE": "/nonexistent/hunter2"}, "OSCAL_AUTH_CACHE_SECRET_FILE"),
    ],
)
def test_the_cache_secret_is_required_and_checked_without_echoing_it(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as error:
        AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_URL": "redis://127.0.0.1:6379/0", **settings})
    assert "short-secret-hunter2" not in str(error.value)
    assert SECRET not in str(error.value)


def test_the_cache_secret_may_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    loaded = AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_URL": "redis://127.0.0.1:6379/0",
                                      "OSCAL_AUTH_CACHE_SECRET_FILE": str(path)})  # fmt: skip
    assert loaded.cache_secret == SECRET.encode()
    path.write_text("x" * 31)
    with pytest.raises(ConfigurationError, match="OSCAL_AUTH_CACHE_SECRET_FILE is too short"):
        AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_URL": "redis://127.0.0.1:6379/0",
                                 "OSCAL_AUTH_CACHE_SECRET_FILE": str(path)})  # fmt: skip


# --- Add if absent: what a replay cache (DPoP proof jti) needs ----------------------------------------


async def test_add_if_absent_is_atomic_across_replicas(redis_server: RedisServer) -> None:
    replicas = [result_cache(config(redis_server), "replay", 100, CACHE_CODEC) for _ in range(4)]
    outcomes = await asyncio.gather(*(cache.add("jti-1", ACCESS, 30) for cache in replicas for _ in range(3)))
    assert outcomes.count(True) == 1
    assert await replicas[0].add("jti-2", ACCESS, 30) is True
    assert await replicas[1].add("jti-2", ACCESS, 30) is False


async def test_added_entries_are_authenticated_and_expire(redis_server: RedisServer) -> None:
    cache = result_cache(config(redis_server), "replay", 100, CACHE_CODEC)
    assert await cache.add("jti-1", ACCESS, 30) is True
    other = result_cache(config(redis_server), "replay", 100, CACHE_CODEC)
    assert await other.get("jti-1") == ACCESS  # written sealed, like every entry
    [key] = stored_keys(redis_server)
    assert 29_000 < redis_server.integer("PTTL", key) <= 30_000  # Redis drops it with the entry
    redis_server.command("PEXPIRE", key, "1")  # ... as it does now
    while redis_server.integer("EXISTS", key):
        await asyncio.sleep(0.01)
    assert await result_cache(config(redis_server), "replay", 100, CACHE_CODEC).add("jti-1", ACCESS, 30) is True


async def test_a_planted_entry_makes_add_report_present(redis_server: RedisServer) -> None:
    cache = result_cache(config(redis_server), "replay", 100, CACHE_CODEC)
    await cache.add("jti-1", ACCESS, 30)
    key = stored_keys(redis_server)[0]
    raw_set(redis_server, key.removesuffix("jti-1") + "jti-2", "forged")
    assert await result_cache(config(redis_server), "replay", 100, CACHE_CODEC).add("jti-2", ACCESS, 30) is False


async def test_add_falls_back_to_memory_while_redis_is_down(redis_server: RedisServer) -> None:
    cache = result_cache(config(redis_server), "replay", 100, CACHE_CODEC)
    redis_server.stop()
    assert await cache.add("jti-1", ACCESS, 30) is True
    assert await cache.add("jti-1", ACCESS, 30) is False


async def test_memory_add_if_absent() -> None:
    clock = [0.0]
    cache: MemoryCache[str] = MemoryCache(10, clock=lambda: clock[0])
    assert await cache.add("k", "first", 10) is True
    assert await cache.add("k", "second", 10) is False
    assert await cache.get("k") == "first"
    clock[0] = 10.0
    assert await cache.add("k", "third", 10) is True
