"""A real Prometheus scrapes the server's metrics listener through a token-bearing workload and
refusals; its own query API shows the counters and histograms carrying the expected values."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import httpx
import pytest

from tests.e2e.clients import MCP_HEADERS, bearer, mcp_client, post_initialize
from tests.e2e.mcp_server import McpServerProcess, free_port
from tests.e2e.prometheus import PrometheusServer
from tests.e2e.stacks import JwtStack, jwt_stack

pytestmark = [pytest.mark.e2e]

DEADLINE_SECONDS = 40
ACCEPTED, ANONYMOUS, MALFORMED, TOOL_CALLS = 5, 3, 2, 2


def eventually(prometheus: PrometheusServer, expression: str, check: Callable[[float], bool]) -> float:
    """The value of `expression` once `check` holds (Prometheus scrapes every second)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    value = None
    while time.monotonic() < deadline:
        value = prometheus.value(expression)
        if value is not None and check(value):
            return value
        time.sleep(0.5)
    raise AssertionError(f"{expression} = {value} never satisfied the check within {DEADLINE_SECONDS} s")


async def call_about(url: str, token: str, times: int) -> None:
    async with mcp_client(url, token) as client:
        for _ in range(times):
            assert not (await client.call_tool("about", {})).is_error


def run_workload(stack: JwtStack) -> str:
    url, token = stack.server.url, stack.token()
    for _ in range(ACCEPTED):
        assert post_initialize(url, bearer(token)).status_code == 200  # each opens a session
    for _ in range(ANONYMOUS):
        assert post_initialize(url).status_code == 401
    for _ in range(MALFORMED):
        assert post_initialize(url, {"Authorization": "Bearer not@a-token"}).status_code == 401
    assert post_initialize(url, bearer(stack.token(scope="profile"))).status_code == 403
    anyio.run(call_about, url, token, TOOL_CALLS)
    return token


def test_prometheus_scrapes_auth_tool_session_and_process_metrics() -> None:
    metrics_port = free_port()
    env = {"OSCAL_MCP_METRICS_PORT": str(metrics_port), "OSCAL_AUTH_JWT_JWKS_CACHE_SECONDS": "1"}
    with jwt_stack(env) as stack, PrometheusServer([f"127.0.0.1:{metrics_port}"]) as prometheus:
        token = run_workload(stack)
        issuer = stack.auth.issuer
        stack.auth.set_failure("500", endpoints=("jwks",))
        time.sleep(1.2)  # past the key set's freshness (1 s) and the refresh cool-down (1 s)
        assert post_initialize(stack.server.url, bearer(stack.token())).status_code == 200  # stale keys serve

        def requests(outcome: str, reason: str) -> str:
            return f'oscal_mcp_auth_requests_total{{outcome="{outcome}",reason="{reason}"}}'

        assert eventually(prometheus, requests("reject", "no_credentials"), lambda v: v >= ANONYMOUS) == ANONYMOUS
        assert eventually(prometheus, requests("reject", "malformed_token"), lambda v: v >= MALFORMED) == MALFORMED
        assert eventually(prometheus, requests("reject", "insufficient_scope"), lambda v: v >= 1) == 1
        accepted = eventually(prometheus, requests("accept", "ok"), lambda v: v >= ACCEPTED + TOOL_CALLS + 1)
        # every accepted request, and the one refused for its scope, passed verification first
        verified = 'oscal_mcp_auth_verification_seconds_count{verifier="jwt",outcome="accept"}'
        assert eventually(prometheus, verified, lambda v: v >= accepted + 1) == accepted + 1
        assert eventually(prometheus, 'oscal_mcp_auth_verification_seconds_bucket{outcome="accept",le="+Inf"}',
                          lambda v: v >= accepted + 1) == accepted + 1  # fmt: skip

        tool = 'oscal_mcp_tool_calls_total{tool="about",outcome="ok"}'
        assert eventually(prometheus, tool, lambda v: v >= TOOL_CALLS) == TOOL_CALLS
        assert prometheus.value('oscal_mcp_tool_call_seconds_count{tool="about"}') == TOOL_CALLS

        jwks = f'{{issuer="{issuer}"}}'
        assert eventually(prometheus, f"oscal_mcp_auth_jwks_fetches_total{jwks}", lambda v: v >= 2) >= 2
        failures = f"sum(oscal_mcp_auth_jwks_fetch_failures_total{jwks})"
        assert eventually(prometheus, failures, lambda v: v >= 1) >= 1
        assert eventually(prometheus, f"oscal_mcp_auth_jwks_stale_served_total{jwks}", lambda v: v >= 1) >= 1
        assert eventually(prometheus, f"oscal_mcp_auth_jwks_seconds_since_success{jwks}", lambda v: v > 0) > 0
        hits = 'oscal_mcp_auth_result_cache_lookups_total{layer="local",result="hit"}'
        assert eventually(prometheus, hits, lambda v: v >= ACCEPTED) >= ACCEPTED  # one token, verified once

        # the raw initializes and the stale-key one hold sessions (one principal's); the client's
        # ended with its DELETE
        opened = ACCEPTED + 1
        assert eventually(prometheus, "oscal_mcp_sessions_open", lambda v: v >= opened) == opened
        assert eventually(prometheus, "oscal_mcp_sessions_per_principal_max", lambda v: v >= opened) == opened
        assert eventually(prometheus, "oscal_mcp_build_info", lambda v: v == 1) == 1
        assert eventually(prometheus, "process_cpu_seconds_total", lambda v: v > 0) > 0

        labels = {item["metric"].get("reason", "") for item in prometheus.query("oscal_mcp_auth_requests_total")}
        assert token not in str(labels) and all(len(label) <= 64 for label in labels)
        assert httpx.get(f"{stack.server.base_url}/metrics", timeout=10).status_code == 404  # not on the MCP port


def test_prometheus_sees_the_sessions_of_a_stateful_server_without_auth() -> None:
    metrics_port = free_port()
    env = {"OSCAL_MCP_METRICS_PORT": str(metrics_port), "OSCAL_MCP_JSON_RESPONSE": "true"}
    with McpServerProcess(env=env) as server, PrometheusServer([f"127.0.0.1:{metrics_port}"]) as prometheus:
        opened = [post_initialize(server.url, {"mcp-protocol-version": "2025-06-18"}) for _ in range(3)]
        assert [answer.status_code for answer in opened] == [200, 200, 200]
        assert eventually(prometheus, "oscal_mcp_sessions_open", lambda v: v >= 3) == 3
        # the same scrape: unauthenticated sessions belong to no principal
        assert prometheus.value("oscal_mcp_sessions_per_principal_max") == 0
        session = {**MCP_HEADERS, "mcp-session-id": opened[0].headers["mcp-session-id"]}
        assert httpx.delete(server.url, headers=session, timeout=10).status_code == 200
        assert eventually(prometheus, "oscal_mcp_sessions_open", lambda v: v < 3) == 2
