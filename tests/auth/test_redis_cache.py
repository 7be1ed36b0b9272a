"""The Redis-backed shared cache against a real redis-server: sharing, expiry, failure, recovery."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
import respx
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig, ConfigurationError
from oscal_mcp_auth.backends.introspection import CACHE_CODEC, Refusal
from oscal_mcp_auth.cache import MemoryCache, result_cache, shared_store
from oscal_mcp_auth.jwks import JwksCache
from oscal_mcp_auth.redis_cache import TieredCache
from tests.auth.keys import public_keys
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio


def config(redis: RedisServer, resource: str = "https://oscal.example.com/mcp") -> AuthConfig:
    return AuthConfig.from_mapping(
        {"OSCAL_AUTH_ISSUER_URL": "https://as.example.com", "OSCAL_AUTH_RESOURCE_SERVER_URL": resource,
         "OSCAL_AUTH_CACHE_URL": redis.url}
    )  # fmt: skip


ACCESS = AccessToken(token="", client_id="c1", scopes=["oscal:read"], expires_at=2_000_000_000, subject="u1")


async def test_a_result_stored_by_one_replica_is_read_by_another(redis_server: RedisServer) -> None:
    replica_a = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    replica_b = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    await replica_a.set("k1", ACCESS, 30)
    await replica_a.set("k2", Refusal("inactive", "active=false"), 30)
    assert await replica_b.get("k1") == ACCESS
    assert await replica_b.get("k2") == Refusal("inactive", "active=false")


async def test_entries_expire_in_redis_too(redis_server: RedisServer) -> None:
    cache = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    await cache.set("k1", ACCESS, 0.3)
    other = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    assert await other.get("k1") is not None
    await asyncio.sleep(0.5)
    fresh = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    assert await fresh.get("k1") is None


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


async def test_redis_down_falls_back_to_memory_and_recovers(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    cache = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    assert isinstance(cache, TieredCache)
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        await cache.set("k1", ACCESS, 30)  # stored in memory despite the outage
        assert await cache.get("k1") == ACCESS
        assert await cache.get("missing") is None  # a miss, never an error
    assert caplog.text.count("shared cache (redis) unreachable") == 1


async def test_a_malformed_entry_is_a_miss(redis_server: RedisServer) -> None:
    cache = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    await cache.set("k1", ACCESS, 30)
    key = next(k for k in redis_server.command("KEYS", "*").decode().split("\r\n") if "oscal" in k)
    redis_server.command("SET", key, "not-json")
    fresh = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC)
    assert await fresh.get("k1") is None


def test_cache_url_is_validated_without_echoing_it() -> None:
    with pytest.raises(ConfigurationError) as error:
        AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_URL": "http://user:hunter2@cache:6379"})
    assert "hunter2" not in str(error.value)
    assert "hunter2" not in repr(AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_URL": "redis://:hunter2@cache:6379"}))


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
    assert [jwks.fetch_count for jwks in replicas] == [1, 0, 0]


async def test_policies_that_change_a_result_do_not_share_entries(redis_server: RedisServer) -> None:
    strict = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC, policy="url|rs|True")
    lax = result_cache(config(redis_server), "introspection", 100, CACHE_CODEC, policy="url|rs|False")
    await lax.set("k1", ACCESS, 30)
    assert await strict.get("k1") is None


def test_an_unusable_cache_url_names_the_setting_not_the_password() -> None:
    broken = AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_URL": "redis://:hunter2@cache:notaport/0"})
    with pytest.raises(ConfigurationError) as error:
        shared_store(broken, "introspection")
    assert "OSCAL_AUTH_CACHE_URL" in str(error.value)
    assert "hunter2" not in str(error.value)
