"""OSCAL_MCP_MAX_SESSIONS_PER_PRINCIPAL over real HTTP: one principal at its quota gets 429, every
other principal still opens sessions, and a session its owner ends or lets expire frees its place.
Without auth every session is the anonymous owner's: no quota of its own, only the SDK's global
OSCAL_MCP_MAX_SESSIONS.

Sessions that must stay alive hold an open GET event stream (a request in flight): the SDK never
expires such a session, so what is asserted does not depend on how fast the machine is.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.e2e.clients import bearer, post_initialize
from tests.e2e.mcp_server import McpServerProcess

pytestmark = [pytest.mark.e2e]

QUOTA = 2
IDLE_SECONDS = 2
KEYS = {name: f"{name}-key-0123456789" for name in ("alice", "bob", "carol", "dave")}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpServerProcess]:
    keys = tmp_path_factory.mktemp("keys") / "keys.json"
    entries = [
        {"client_id": name, "scopes": ["oscal:read"], "key_sha256": hashlib.sha256(key.encode()).hexdigest()}
        for name, key in KEYS.items()
    ]
    keys.write_text(json.dumps({"keys": entries}))
    env = {
        "OSCAL_AUTH_VERIFIER": "static",
        "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys),
        "OSCAL_MCP_MAX_SESSIONS_PER_PRINCIPAL": str(QUOTA),
        "OSCAL_MCP_SESSION_IDLE_SECONDS": str(IDLE_SECONDS),
        "OSCAL_MCP_JSON_RESPONSE": "true",
    }
    with McpServerProcess(env=env) as process:
        yield process


def open_session(server: McpServerProcess, who: str) -> httpx.Response:
    return post_initialize(server.url, {**bearer(KEYS[who]), "mcp-protocol-version": "2025-06-18"})


def session_headers(who: str, session_id: str) -> dict[str, str]:
    return {**bearer(KEYS[who]), "mcp-session-id": session_id, "mcp-protocol-version": "2025-06-18"}


def hold_open(stack: ExitStack, client: httpx.Client, server: McpServerProcess, who: str) -> str:
    """A new session of `who`, kept alive by an open GET event stream until `stack` closes."""
    opened = open_session(server, who)
    assert opened.status_code == 200, opened.text
    session_id = opened.headers["mcp-session-id"]
    headers = session_headers(who, session_id)
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    client.post(server.url, json=initialized, headers={**headers, "accept": "application/json, text/event-stream"})
    stream = stack.enter_context(
        client.stream("GET", server.url, headers={**headers, "accept": "text/event-stream"}, timeout=30)
    )
    assert stream.status_code == 200
    return session_id


def test_a_principal_at_its_quota_gets_429_and_the_others_are_unaffected(server: McpServerProcess) -> None:
    with ExitStack() as stack, httpx.Client() as client:
        first = hold_open(stack, client, server, "alice")
        hold_open(stack, client, server, "alice")
        start = server.log_position()
        refused = open_session(server, "alice")
        assert refused.status_code == 429
        assert f"at most {QUOTA} at once" in refused.json()["error"]["message"]
        assert int(refused.headers["retry-after"]) >= 1
        assert "OSCAL_MCP_MAX_SESSIONS_PER_PRINCIPAL=2" in server.logs(since=start)
        # bob is not alice: his sessions open while hers are at the quota
        assert open_session(server, "bob").status_code == 200
        assert open_session(server, "bob").status_code == 200
        # alice's existing sessions still work
        ping = {"jsonrpc": "2.0", "id": 9, "method": "ping"}
        answer = client.post(
            server.url, json=ping, headers={**session_headers("alice", first), "accept": "application/json"}
        )
        assert answer.status_code == 200, answer.text


def test_ending_a_session_frees_its_place(server: McpServerProcess) -> None:
    with ExitStack() as stack, httpx.Client() as client:
        hold_open(stack, client, server, "carol")
        second = hold_open(stack, client, server, "carol")
        assert open_session(server, "carol").status_code == 429
        ended = client.delete(server.url, headers=session_headers("carol", second))
        assert ended.status_code == 200
        assert open_session(server, "carol").status_code == 200


def test_an_expired_session_frees_its_place(server: McpServerProcess) -> None:
    with ExitStack() as stack, httpx.Client() as client:
        hold_open(stack, client, server, "dave")
        hold_open(stack, client, server, "dave")
        assert open_session(server, "dave").status_code == 429
    # the streams are closed: both sessions go idle and expire after IDLE_SECONDS
    deadline = time.monotonic() + 30 * IDLE_SECONDS
    status = 429
    while status == 429 and time.monotonic() < deadline:
        time.sleep(IDLE_SECONDS / 4)
        status = open_session(server, "dave").status_code
    assert status == 200


def test_unauthenticated_sessions_have_no_per_principal_quota_but_the_global_bound() -> None:
    env = {
        "OSCAL_MCP_MAX_SESSIONS_PER_PRINCIPAL": str(QUOTA),
        "OSCAL_MCP_MAX_SESSIONS": str(QUOTA + 2),
        "OSCAL_MCP_JSON_RESPONSE": "true",
    }
    with McpServerProcess(env=env) as anonymous_only:
        headers = {"mcp-protocol-version": "2025-06-18"}
        statuses = [post_initialize(anonymous_only.url, headers).status_code for _ in range(QUOTA + 3)]
    assert statuses == [200] * (QUOTA + 2) + [503]  # past the quota; the SDK's max_sessions refuses the last
