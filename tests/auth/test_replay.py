"""The DPoP replay cache: a proof is accepted once within its window, in one process and, through a
real Redis, across replicas; while Redis is down, DPoP fails closed."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from oscal_mcp_auth import AuthConfig
from oscal_mcp_auth.dpop import CheckedProof, InvalidProof
from oscal_mcp_auth.redis_cache import RedisStore
from oscal_mcp_auth.replay import ReplayCache, ReplayCheckUnavailable, replay_cache
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio
SECRET = b"s" * 32
PROOF = CheckedProof(thumbprint="key-a", jti="jti-1", iat=0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def assert_replayed(cache: ReplayCache, proof: CheckedProof = PROOF) -> None:
    with pytest.raises(InvalidProof) as refused:
        await cache.remember(proof, 300)
    assert refused.value.reason == "dpop_replay"


async def test_a_proof_is_accepted_once() -> None:
    cache = ReplayCache()
    await cache.remember(PROOF, 300)
    await assert_replayed(cache)


async def test_the_same_jti_from_another_key_is_another_proof() -> None:
    cache = ReplayCache()
    await cache.remember(PROOF, 300)
    await cache.remember(CheckedProof(thumbprint="key-b", jti="jti-1", iat=0), 300)
    assert len(cache) == 2


async def test_a_jti_is_forgotten_once_its_proof_could_no_longer_be_accepted() -> None:
    clock = Clock()
    cache = ReplayCache(clock=clock)
    await cache.remember(PROOF, 300)
    clock.now += 299
    await assert_replayed(cache)
    clock.now += 2
    await cache.remember(PROOF, 300)


async def test_memory_stays_bounded() -> None:
    cache = ReplayCache(max_entries=10)
    for number in range(50):
        await cache.remember(CheckedProof("key-a", f"jti-{number}", 0), 300)
    assert len(cache) == 10
    await assert_replayed(cache, CheckedProof("key-a", "jti-49", 0))


def store(redis: RedisServer) -> RedisStore:
    return RedisStore(redis.url, "oscal_mcp_auth:dpop:test:", SECRET)


async def test_a_proof_used_at_one_replica_is_refused_at_another(redis_server: RedisServer) -> None:
    replica_a, replica_b = ReplayCache(shared=store(redis_server)), ReplayCache(shared=store(redis_server))
    try:
        await replica_a.remember(PROOF, 300)
        await assert_replayed(replica_b)
        await assert_replayed(replica_a)
        ttl = int(redis_server.command("PTTL", "oscal_mcp_auth:dpop:test:" + PROOF.replay_key).strip(b":\r\n"))
        assert 299_000 < ttl <= 300_000
    finally:
        await replica_a.aclose()
        await replica_b.aclose()


async def test_redis_down_refuses_new_proofs_instead_of_trusting_memory_alone(redis_server: RedisServer) -> None:
    replica = ReplayCache(shared=store(redis_server))
    try:
        await replica.remember(PROOF, 300)
        redis_server.stop()
        with pytest.raises(ReplayCheckUnavailable):
            await replica.remember(CheckedProof("key-a", "jti-2", 0), 300)
        await assert_replayed(replica)  # a replay this replica saw is still a replay
    finally:
        await replica.aclose()


def window_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str]]:
    return [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.module == "replay"]


async def test_a_deployments_cache_is_shared_under_the_dpop_jti_prefix_and_its_window_is_logged(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    config = AuthConfig.from_mapping({
        "OSCAL_AUTH_CACHE_URL": redis_server.url, "OSCAL_AUTH_CACHE_SECRET": "s" * 32,
        "OSCAL_AUTH_DPOP_MAX_AGE_SECONDS": "200", "OSCAL_AUTH_LEEWAY_SECONDS": "30",
    })  # fmt: skip
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        cache = replay_cache(config)
    assert window_lines(caplog) == [
        (
            "oscal_mcp_auth",
            "INFO",
            "a used DPoP proof is remembered for OSCAL_AUTH_DPOP_MAX_AGE_SECONDS + OSCAL_AUTH_LEEWAY_SECONDS = 230 s "
            "after its iat: give every replica the same values, or one with a longer window accepts a proof for "
            "longer than another remembers it",
        )
    ]
    try:
        await cache.remember(PROOF, 300)
        assert redis_server.command("KEYS", "oscal_mcp_auth:dpop-jti:*").startswith(b"*1\r\n")
    finally:
        await cache.aclose()


async def test_without_dpop_no_window_is_logged(redis_server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    config = AuthConfig.from_mapping({
        "OSCAL_AUTH_CACHE_URL": redis_server.url, "OSCAL_AUTH_CACHE_SECRET": "s" * 32, "OSCAL_AUTH_DPOP_ALGORITHMS": "",
    })  # fmt: skip
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        await replay_cache(config).aclose()
    assert window_lines(caplog) == []


class ClosingStore:
    closed = False

    async def get(self, key: str) -> tuple[Any, float] | None:
        return None

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        pass

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool | None:
        return True

    async def aclose(self) -> None:
        self.closed = True


async def test_closing_closes_the_shared_store_and_is_harmless_without_one() -> None:
    shared = ClosingStore()
    await ReplayCache(shared=shared).aclose()
    assert shared.closed
    await ReplayCache().aclose()
