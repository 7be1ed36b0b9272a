"""The DPoP replay cache: a proof is accepted once within its window, in one process and, through a
real Redis, across replicas; while Redis is down, DPoP fails closed."""

from __future__ import annotations

import pytest

from oscal_mcp_auth.dpop import CheckedProof, InvalidProof
from oscal_mcp_auth.redis_cache import RedisStore
from oscal_mcp_auth.replay import ReplayCache, ReplayCheckUnavailable
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
