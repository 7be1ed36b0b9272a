"""The DPoP and shared-store metrics of a real server (oidc-provider binding tokens, a real Redis),
read from its metrics listener: refused proofs by reason, replays caught, and Redis errors with the
503 a DPoP request gets while Redis is down."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.as_fixture import AuthorizationServer, Client, Features, Resource
from tests.e2e.clients import post_initialize
from tests.e2e.dpop_client import DPoPKey
from tests.e2e.mcp_server import McpServerProcess, free_port
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.e2e]

PUBLIC = "https://dpop-metrics.example.test/mcp"
CLIENT, SECRET = "mcp-client", "client-secret-1"
CACHE_SECRET = "dpop-metrics-cache-secret-of-32-bytes"


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def dpop(token: str, proof: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


def test_refused_proofs_replays_and_redis_errors_are_counted() -> None:
    metrics_port = free_port()
    with (
        AuthorizationServer(
            clients=[Client(CLIENT, SECRET)],
            resources=[Resource(PUBLIC, scope="oscal:read")],
            features=Features(dpop=True),
        ) as auth,
        RedisServer() as redis,
    ):
        env = {
            "OSCAL_AUTH_ISSUER_URL": auth.issuer,
            "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
            "OSCAL_AUTH_RESOURCE_SERVER_URL": PUBLIC,
            "OSCAL_AUTH_CACHE_URL": redis.url,
            "OSCAL_AUTH_CACHE_SECRET": CACHE_SECRET,
            "OSCAL_MCP_STATELESS_HTTP": "true",
            "OSCAL_MCP_METRICS_PORT": str(metrics_port),
        }
        with McpServerProcess(env=env) as server:
            key = DPoPKey.generate()
            token = auth.client_credentials_token(CLIENT, SECRET, PUBLIC, "oscal:read", dpop=key)
            proof = key.proof("POST", PUBLIC, access_token=token)
            assert post_initialize(server.url, dpop(token, proof)).status_code == 200
            assert post_initialize(server.url, dpop(token, proof)).status_code == 401  # replayed
            wrong_url = key.proof("POST", "https://dpop-metrics.example.test/other", access_token=token)
            assert post_initialize(server.url, dpop(token, wrong_url)).status_code == 401
            redis.stop()
            fresh = key.proof("POST", PUBLIC, access_token=token)
            assert post_initialize(server.url, dpop(token, fresh)).status_code == 503  # fail closed
            samples = scrape(metrics_port)

    def value(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    refused = "oscal_mcp_auth_dpop_proofs_refused_total"
    assert value(refused, reason="dpop_replay") == 1
    assert value(refused, reason="dpop_htu") == 1
    assert value(refused, reason="replay_cache_unavailable") == 1
    assert value("oscal_mcp_auth_dpop_replays_total") == 1
    assert value("oscal_mcp_auth_store_errors_total", store="redis") >= 1
    requests = "oscal_mcp_auth_requests_total"
    assert value(requests, outcome="accept", reason="ok") == 1
    assert value(requests, outcome="reject", reason="dpop_replay") == 1
    assert value(requests, outcome="reject", reason="replay_cache_unavailable") == 1
