"""Several replicas behind one URL sharing a verification cache in a real redis-server.

The replicas listen on different loopback ports but serve one public resource URL, as they would
behind a load balancer; the tests play the load balancer by choosing a replica per request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.clients import MCP_HEADERS, bearer, post_initialize
from tests.e2e.conftest import IntrospectionAS
from tests.e2e.mcp_server import McpServerProcess
from tests.e2e.stacks import jwt_stack
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.e2e]

CACHE_SECONDS = 3
CACHE_SECRET = "scale-out-cache-secret-of-32-bytes-or-more"


@pytest.fixture
def replicas(introspection_as: IntrospectionAS, redis_server: RedisServer) -> Iterator[list[McpServerProcess]]:
    env = introspection_as.server_env(
        OSCAL_AUTH_CACHE_URL=redis_server.url,
        OSCAL_AUTH_CACHE_SECRET=CACHE_SECRET,
        OSCAL_AUTH_INTROSPECTION_CACHE_SECONDS=str(CACHE_SECONDS),
        OSCAL_MCP_STATELESS_HTTP="true",
    )
    servers = [McpServerProcess(env=env).start(), McpServerProcess(env=env).start()]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def introspections(auth: IntrospectionAS) -> int:
    return auth.server.hits("introspection")


def test_one_introspection_serves_every_replica(
    introspection_as: IntrospectionAS, replicas: list[McpServerProcess]
) -> None:
    token = introspection_as.token()
    before = introspections(introspection_as)
    for _ in range(3):
        for server in replicas:
            assert post_initialize(server.url, bearer(token)).status_code == 200
    assert introspections(introspection_as) - before == 1


def test_revocation_is_seen_by_every_replica_within_the_ttl(
    introspection_as: IntrospectionAS, replicas: list[McpServerProcess]
) -> None:
    token = introspection_as.token()
    assert all(post_initialize(s.url, bearer(token)).status_code == 200 for s in replicas)
    introspection_as.revoke(token)
    time.sleep(CACHE_SECONDS + 0.5)
    assert [post_initialize(s.url, bearer(token)).status_code for s in replicas] == [401, 401]


def test_redis_stopped_mid_run_still_gives_correct_answers(
    introspection_as: IntrospectionAS, replicas: list[McpServerProcess], redis_server: RedisServer
) -> None:
    token = introspection_as.token()
    assert post_initialize(replicas[0].url, bearer(token)).status_code == 200
    redis_server.stop()
    fresh = introspection_as.token()
    for server in replicas:
        assert post_initialize(server.url, bearer(token)).status_code == 200
        assert post_initialize(server.url, bearer(fresh)).status_code == 200
        assert post_initialize(server.url, bearer("garbage-token")).status_code == 401  # never fails open
        assert post_initialize(server.url).status_code == 401
    revoked = introspection_as.token()
    introspection_as.revoke(revoked)
    assert post_initialize(replicas[1].url, bearer(revoked)).status_code == 401
    assert any("shared cache (redis) unreachable" in server.logs() for server in replicas)


def test_stateless_replicas_serve_tool_calls_without_session_affinity(
    introspection_as: IntrospectionAS, replicas: list[McpServerProcess]
) -> None:
    token = introspection_as.token()
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "about", "arguments": {}}}
    headers = {**MCP_HEADERS, **bearer(token), "mcp-protocol-version": "2025-06-18"}
    for server in replicas:  # no initialize, no session id: any replica answers any request
        response = httpx.post(server.url, json=call, headers=headers, timeout=30)
        assert response.status_code == 200
        payload = response.text.split("data: ", 1)[-1] if "data: " in response.text else response.text
        result = json.loads(payload)["result"]
        assert result["structuredContent"]["caller"]["client_id"] == introspection_as.client_id


def test_jwks_is_fetched_once_for_all_jwt_replicas(redis_server: RedisServer) -> None:
    shared = {"OSCAL_AUTH_CACHE_URL": redis_server.url, "OSCAL_AUTH_CACHE_SECRET": CACHE_SECRET}
    with jwt_stack(shared) as first:
        second = McpServerProcess(env=dict(first.server.env))
        second.env["OSCAL_AUTH_RESOURCE_SERVER_URL"] = first.server.url  # one public URL for both
        with second:
            token = first.token()
            first.auth.reset_stats()
            assert post_initialize(first.server.url, bearer(token)).status_code == 200
            assert post_initialize(second.url, bearer(token)).status_code == 200
            assert first.auth.hits("jwks") == 1


def test_a_cache_url_without_a_secret_stops_start_up(
    introspection_as: IntrospectionAS, redis_server: RedisServer
) -> None:
    env = introspection_as.server_env(OSCAL_AUTH_CACHE_URL=redis_server.url)
    with pytest.raises(RuntimeError, match=r"(?s)exited with 2:.*OSCAL_AUTH_CACHE_URL needs OSCAL_AUTH_CACHE_SECRET"):
        McpServerProcess(env=env).start()
