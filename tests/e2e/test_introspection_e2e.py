"""Opaque access tokens checked by introspection (RFC 7662), end to end.

A real Authorization Server (oidc-provider, `tests/e2e/conftest.py`), the real ``oscal-mcp``
server in a subprocess with ``OSCAL_AUTH_VERIFIER=introspection``, and the SDK's MCP client (or raw
HTTP where a test needs status codes or concurrency). Every server here binds 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.as_fixture import FailureMode
from tests.e2e.clients import INITIALIZE, MCP_HEADERS, bearer, challenge_params, mcp_client, post_initialize
from tests.e2e.conftest import IntrospectionAS
from tests.e2e.mcp_server import McpServerProcess

pytestmark = [pytest.mark.e2e]

SHORT_CACHE_SECONDS = 3
OUTAGE_TIMEOUT_SECONDS = 1
# A bound, not a benchmark: a request must come back well before a client would give up.
WITHIN = 5.0


@pytest.fixture(scope="module")
def server(introspection_as: IntrospectionAS) -> Iterator[McpServerProcess]:
    """Default settings: client_secret_basic, results cached for 60 s."""
    with McpServerProcess(env=introspection_as.server_env()) as process:
        yield process


@pytest.fixture(scope="module")
def short_cache_server(introspection_as: IntrospectionAS) -> Iterator[McpServerProcess]:
    """client_secret_post, and a cache short enough to watch a revocation take effect."""
    env = introspection_as.server_env(
        OSCAL_AUTH_INTROSPECTION_CLIENT_ID=introspection_as.rs_post_client_id,
        OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET=introspection_as.rs_post_client_secret,
        OSCAL_AUTH_INTROSPECTION_AUTH_METHOD="client_secret_post",
        OSCAL_AUTH_INTROSPECTION_CACHE_SECONDS=str(SHORT_CACHE_SECONDS),
    )
    with McpServerProcess(env=env) as process:
        yield process


@pytest.fixture(scope="module")
def outage_server(outage_introspection_as: IntrospectionAS) -> Iterator[McpServerProcess]:
    env = outage_introspection_as.server_env(OSCAL_AUTH_INTROSPECTION_TIMEOUT_SECONDS=str(OUTAGE_TIMEOUT_SECONDS))
    with McpServerProcess(env=env) as process:
        yield process


def timed_post(url: str, token: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = post_initialize(url, bearer(token))
    return response, time.monotonic() - started


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert challenge_params(response)["error"] == "invalid_token"


# ---------------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_opaque_token_with_scope_reaches_tools(
    introspection_as: IntrospectionAS, server: McpServerProcess
) -> None:
    token = introspection_as.token("oscal:read oscal:write")
    assert token.count(".") == 0  # opaque: only the AS can tell what it means
    async with mcp_client(server.url, token) as client:
        tools = await client.list_tools()
        result = await client.call_tool("about", {})
    assert "about" in {tool.name for tool in tools.tools}
    about = result.structured_content
    assert about is not None
    assert about["auth"]["verifier"] == "introspection"
    assert about["caller"] == {"client_id": "mcp-client", "subject": None, "scopes": ["oscal:read", "oscal:write"]}


def test_token_without_the_required_scope_gets_403(introspection_as: IntrospectionAS, server: McpServerProcess) -> None:
    response = post_initialize(server.url, bearer(introspection_as.token("oscal:write")))
    assert response.status_code == 403
    params = challenge_params(response)
    assert (params["error"], params["scope"]) == ("insufficient_scope", "oscal:read")


def test_token_for_another_resource_is_rejected(introspection_as: IntrospectionAS, server: McpServerProcess) -> None:
    token = introspection_as.token(resource=introspection_as.other_resource)
    logged_before = server.log_position()
    assert_invalid_token(post_initialize(server.url, bearer(token)))
    assert "reason=wrong_audience" in server.logs(since=logged_before)


def test_garbage_token_is_rejected(server: McpServerProcess) -> None:
    logged_before = server.log_position()
    assert_invalid_token(post_initialize(server.url, bearer("not-a-token-this-AS-ever-issued")))
    assert "reason=inactive" in server.logs(since=logged_before)


def test_revoked_token_is_rejected_once_the_cache_entry_expires(
    introspection_as: IntrospectionAS, short_cache_server: McpServerProcess
) -> None:
    token = introspection_as.token()
    logged_before = short_cache_server.log_position()
    assert post_initialize(short_cache_server.url, bearer(token)).status_code == 200  # introspected (post), cached
    cached_at = time.monotonic()
    introspection_as.revoke(token)
    # The documented revocation latency: the cached answer stands until its entry expires ...
    assert post_initialize(short_cache_server.url, bearer(token)).status_code == 200
    # ... and then the AS is asked again and says the token is inactive.
    while (response := post_initialize(short_cache_server.url, bearer(token))).status_code == 200:
        assert time.monotonic() - cached_at < SHORT_CACHE_SECONDS + WITHIN
        time.sleep(0.2)
    assert_invalid_token(response)
    assert time.monotonic() - cached_at >= SHORT_CACHE_SECONDS - 0.5
    assert "reason=inactive" in short_cache_server.logs(since=logged_before)


def test_revoked_token_is_rejected_at_once_with_the_cache_disabled(introspection_as: IntrospectionAS) -> None:
    env = introspection_as.server_env(OSCAL_AUTH_INTROSPECTION_CACHE_SECONDS="0")
    with McpServerProcess(env=env) as uncached:
        token = introspection_as.token()
        assert post_initialize(uncached.url, bearer(token)).status_code == 200
        introspection_as.revoke(token)
        assert_invalid_token(post_initialize(uncached.url, bearer(token)))


def test_wrong_rs_client_secret_rejects_every_request_with_a_clear_log(introspection_as: IntrospectionAS) -> None:
    env = introspection_as.server_env(OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET="not-the-rs-secret")
    with McpServerProcess(env=env) as misconfigured:
        tokens = [introspection_as.token() for _ in range(3)]
        for token in tokens:
            assert_invalid_token(post_initialize(misconfigured.url, bearer(token)))
        logs = misconfigured.logs()
    assert logs.count("reason=introspection_denied") >= 3
    assert "HTTP 401 error='invalid_client'" in logs
    assert "check OSCAL_AUTH_INTROSPECTION_CLIENT_ID/SECRET" in logs
    assert "not-the-rs-secret" not in logs
    assert not any(token in logs for token in tokens)


# ---------------------------------------------------------------------------------------------------
# Calls at the Authorization Server: single-flight and cache
# ---------------------------------------------------------------------------------------------------


async def initialize_concurrently(url: str, token: str, count: int) -> list[int]:
    headers = {**MCP_HEADERS, **bearer(token)}
    async with httpx.AsyncClient(timeout=30) as http:
        responses = await asyncio.gather(*(http.post(url, json=INITIALIZE, headers=headers) for _ in range(count)))
    return [response.status_code for response in responses]


@pytest.mark.anyio
async def test_fifty_concurrent_requests_with_one_token_make_one_introspection_call(
    introspection_as: IntrospectionAS, server: McpServerProcess
) -> None:
    post_initialize(server.url, bearer(introspection_as.token()))  # the endpoint is discovered by now
    token = introspection_as.token()
    introspection_as.server.reset_stats()
    assert await initialize_concurrently(server.url, token, 50) == [200] * 50
    assert introspection_as.server.hits("introspection") == 1


def test_repeated_requests_within_the_ttl_make_no_further_calls(
    introspection_as: IntrospectionAS, server: McpServerProcess
) -> None:
    token = introspection_as.token()
    introspection_as.server.reset_stats()
    for _ in range(10):
        assert post_initialize(server.url, bearer(token)).status_code == 200
    assert introspection_as.server.hits("introspection") == 1


def test_a_repeated_bad_token_is_asked_about_once(introspection_as: IntrospectionAS, server: McpServerProcess) -> None:
    introspection_as.server.reset_stats()
    for _ in range(10):
        assert_invalid_token(post_initialize(server.url, bearer("a-bad-token-sent-again-and-again")))
    assert introspection_as.server.hits("introspection") == 1


# ---------------------------------------------------------------------------------------------------
# The Authorization Server misbehaving: 401 within the timeout, never a 500, never a hang
# ---------------------------------------------------------------------------------------------------


def test_slow_authorization_server_means_401_within_the_timeout(
    outage_introspection_as: IntrospectionAS, outage_server: McpServerProcess
) -> None:
    token = outage_introspection_as.token()  # before the delay: the token endpoint is slowed down too
    logged_before = outage_server.log_position()
    outage_introspection_as.server.set_delay(3000)
    try:
        response, elapsed = timed_post(outage_server.url, token)
    finally:
        outage_introspection_as.server.set_delay(0)
    assert_invalid_token(response)
    assert elapsed < WITHIN
    assert "reason=introspection_unavailable" in outage_server.logs(since=logged_before)
    # Nothing was cached about the token: with the AS fast again, it is accepted.
    assert post_initialize(outage_server.url, bearer(token)).status_code == 200


@pytest.mark.parametrize("mode", ["500", "html", "garbage", "huge"])
def test_broken_introspection_answers_mean_401(
    outage_introspection_as: IntrospectionAS, outage_server: McpServerProcess, mode: FailureMode
) -> None:
    token = outage_introspection_as.token()
    logged_before = outage_server.log_position()
    outage_introspection_as.server.set_failure(mode, endpoints=["introspection"])
    try:
        response, elapsed = timed_post(outage_server.url, token)
    finally:
        outage_introspection_as.server.set_failure("none")
    assert_invalid_token(response)
    assert elapsed < WITHIN
    cause = {"500": "http_status", "html": "not_json", "garbage": "not_json", "huge": "too_large"}[mode]
    logs = outage_server.logs(since=logged_before)
    assert "reason=introspection_unavailable verifier=introspection" in logs
    assert f"{cause}: " in logs


def test_stopped_authorization_server_means_401_within_the_timeout(
    outage_introspection_as: IntrospectionAS, outage_server: McpServerProcess
) -> None:
    token = outage_introspection_as.token()
    logged_before = outage_server.log_position()
    outage_introspection_as.server.stop()
    try:
        response, elapsed = timed_post(outage_server.url, token)
    finally:
        outage_introspection_as.server.restart()  # same port; opaque tokens are forgotten
    assert_invalid_token(response)
    assert elapsed < WITHIN
    logs = outage_server.logs(since=logged_before)
    assert "reason=introspection_unavailable verifier=introspection" in logs
    assert "unreachable: " in logs
    fresh = outage_introspection_as.token()
    assert post_initialize(outage_server.url, bearer(fresh)).status_code == 200


def test_server_starts_while_the_authorization_server_is_down_and_discovers_it_later(
    outage_introspection_as: IntrospectionAS,
) -> None:
    auth = outage_introspection_as
    env = auth.server_env(OSCAL_AUTH_INTROSPECTION_TIMEOUT_SECONDS=str(OUTAGE_TIMEOUT_SECONDS))
    token = auth.token()
    auth.server.stop()
    try:
        with McpServerProcess(env=env) as early:  # start-up does not need the AS: discovery is lazy
            response, elapsed = timed_post(early.url, token)
            assert_invalid_token(response)
            assert elapsed < WITHIN
            auth.server.restart()
            assert post_initialize(early.url, bearer(auth.token())).status_code == 200  # discovery retried
            logs = early.logs()
    finally:
        if not auth.server.running:
            auth.server.restart()
    assert "oauth-authorization-server: ConnectError" in logs
    assert "token introspection endpoint " in logs


# ---------------------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------------------


def test_logs_never_contain_tokens_or_the_rs_secret(
    introspection_as: IntrospectionAS, server: McpServerProcess
) -> None:
    token = introspection_as.token()
    logged_before = server.log_position()
    post_initialize(server.url, bearer(token))
    post_initialize(server.url, bearer("some-garbage-token-value"))
    assert "token rejected: reason=" in server.logs(since=logged_before)  # the garbage token's line
    logs = server.logs()
    for secret in (token, "some-garbage-token-value", introspection_as.rs_client_secret):
        assert secret not in logs
