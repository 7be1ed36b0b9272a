"""One shared-cache namespace per resource URL and secret, whatever else differs between replicas
during a rollout (issue 20 item 2), against a real redis-server."""

from __future__ import annotations

import logging
import re

import pytest

from oscal_mcp_auth import AuthConfig
from oscal_mcp_auth.backends.introspection import CACHE_CODEC
from oscal_mcp_auth.cache import result_cache
from oscal_mcp_auth.dpop import CheckedProof, InvalidProof
from oscal_mcp_auth.replay import replay_cache
from tests.auth.test_redis_cache import ACCESS, SECRET
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio


def replica(redis: RedisServer, **settings: str) -> AuthConfig:
    base = {"OSCAL_AUTH_ISSUER_URL": "https://as.example.com,https://new-as.example.com",
            "OSCAL_AUTH_RESOURCE_SERVER_URL": "https://oscal.example.com/mcp", "OSCAL_AUTH_CACHE_URL": redis.url,
            "OSCAL_AUTH_CACHE_SECRET": SECRET, "OSCAL_AUTH_LEEWAY_SECONDS": "60"}  # fmt: skip
    return AuthConfig.from_mapping({**base, **settings})


ROLLOUT_DIFFERENCES = {
    "issuers in another order": {"OSCAL_AUTH_ISSUER_URL": "https://new-as.example.com,https://as.example.com"},
    "another leeway": {"OSCAL_AUTH_LEEWAY_SECONDS": "0"},
    "another DPoP max age": {"OSCAL_AUTH_DPOP_MAX_AGE_SECONDS": "60"},
    "the resource URL spelt otherwise": {"OSCAL_AUTH_RESOURCE_SERVER_URL": "https://OSCAL.example.com:443/mcp/"},
    "the secret with surrounding spaces": {"OSCAL_AUTH_CACHE_SECRET": f"  {SECRET} "},
}


@pytest.mark.parametrize("difference", ROLLOUT_DIFFERENCES)
async def test_replicas_of_one_resource_share_one_replay_namespace(redis_server: RedisServer, difference: str) -> None:
    proof = CheckedProof("thumbprint", "jti-1", 0.0)
    await replay_cache(replica(redis_server)).remember(proof, 30)
    with pytest.raises(InvalidProof, match="used before"):
        await replay_cache(replica(redis_server, **ROLLOUT_DIFFERENCES[difference])).remember(proof, 30)


async def test_another_resource_or_secret_is_another_replay_namespace(redis_server: RedisServer) -> None:
    proof = CheckedProof("thumbprint", "jti-2", 0.0)
    await replay_cache(replica(redis_server)).remember(proof, 30)
    await replay_cache(replica(redis_server, OSCAL_AUTH_RESOURCE_SERVER_URL="https://b.example.com/mcp")).remember(
        proof, 30
    )
    await replay_cache(replica(redis_server, OSCAL_AUTH_CACHE_SECRET="t" * 32)).remember(proof, 30)


async def test_verified_token_results_are_shared_whatever_the_order_of_the_issuers(redis_server: RedisServer) -> None:
    reordered = replica(redis_server, **ROLLOUT_DIFFERENCES["issuers in another order"])
    await result_cache(replica(redis_server), "introspection", 100, CACHE_CODEC).set("k1", ACCESS, 30)
    assert await result_cache(reordered, "introspection", 100, CACHE_CODEC).get("k1") == ACCESS


async def test_verified_token_results_are_not_shared_with_a_replica_accepting_other_issuers(
    redis_server: RedisServer,
) -> None:
    """A token accepted for an issuer one replica trusts must not be accepted from the cache by a
    replica that does not trust it."""
    narrower = replica(redis_server, OSCAL_AUTH_ISSUER_URL="https://as.example.com")
    await result_cache(replica(redis_server), "introspection", 100, CACHE_CODEC).set("k1", ACCESS, 30)
    assert await result_cache(narrower, "introspection", 100, CACHE_CODEC).get("k1") is None


def test_each_shared_cache_logs_its_key_prefix_and_the_settings_that_scope_it(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        result_cache(replica(redis_server), "introspection", 100, CACHE_CODEC, policy="p", policy_settings=("X_URL",))
    assert re.search(
        r"shared cache introspection: redis keys oscal_mcp_auth:introspection:[0-9a-f]{16}:\*, shared by the replicas "
        r"that agree on OSCAL_AUTH_RESOURCE_SERVER_URL, OSCAL_AUTH_ISSUER_URL, OSCAL_AUTH_LEEWAY_SECONDS, X_URL "
        r"and the cache secret",
        caplog.text,
    ), caplog.text
