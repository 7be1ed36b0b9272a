"""What a client puts in a request line or header cannot forge a log line or leave a token in the
log: the real server, the static verifier, requests over real HTTP and the server's own stderr."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest

from oscal_mcp_auth.logsafe import session_id_hash
from tests.e2e.clients import INITIALIZE, MCP_HEADERS, bearer
from tests.e2e.mcp_server import McpServerProcess

pytestmark = [pytest.mark.e2e]

KEY = "log-safety-key-0123456789"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.LEAKED-IF-LOGGED.sig"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpServerProcess]:
    keys = tmp_path_factory.mktemp("keys") / "keys.json"
    entry = {"client_id": "probe", "scopes": ["oscal:read"], "key_sha256": hashlib.sha256(KEY.encode()).hexdigest()}
    keys.write_text(json.dumps({"keys": [entry]}))
    env = {"OSCAL_AUTH_VERIFIER": "static", "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys)}
    with McpServerProcess(env=env) as process:
        yield process


@pytest.mark.parametrize(
    ("target", "status"),
    [
        (f"/mcp?access_t%6Fken={TOKEN}", 400),
        (f"/mcp?access%5Ftoken={TOKEN}", 400),
        (f"/mcp?page=1;access_token={TOKEN}", 400),
        (f"/mcp;access_token={TOKEN}", 404),
        (f"/mcp%3Baccess_token%3D{TOKEN}", 404),
    ],
)
def test_a_token_in_any_query_spelling_is_refused_or_unrouted_and_never_logged(
    server: McpServerProcess, target: str, status: int
) -> None:
    start = server.log_position()
    response = httpx.post(server.base_url + target, json=INITIALIZE, headers=MCP_HEADERS, timeout=30)
    assert response.status_code == status
    logs = server.logs(since=start)
    assert f" {status}" in logs  # the access log line is there...
    assert "LEAKED-IF-LOGGED" not in logs  # ...without the token
    assert "[redacted]" in logs


def test_a_session_id_with_a_nel_byte_reaches_the_log_only_as_its_fingerprint(server: McpServerProcess) -> None:
    start = server.log_position()
    forged = b"abc\x85FORGED 2026-01-01 00:00:00,000 WARNING oscal_mcp: \xe2\x80\xa8x"
    headers = [
        *((name.encode(), value.encode()) for name, value in {**MCP_HEADERS, **bearer(KEY)}.items()),
        (b"mcp-session-id", forged),
        (b"mcp-protocol-version", b"2025-06-18"),
    ]
    response = httpx.post(server.url, json=INITIALIZE, headers=headers, timeout=30)
    assert response.status_code in (400, 404)
    logs = server.logs(since=start)
    # the SDK's own "unknown or expired session ID" line, with the id (as Starlette decodes it) hidden
    assert f"session ID: [session_id_hash={session_id_hash(forged.decode('latin-1'))}]" in logs
    assert "FORGED" not in logs
    for separator in ("\x85", "\u2028", "\u2029", "\r"):
        assert separator not in logs


def test_the_sdk_lines_about_a_real_session_carry_its_fingerprint_not_the_id(server: McpServerProcess) -> None:
    start = server.log_position()
    headers = {**MCP_HEADERS, **bearer(KEY), "mcp-protocol-version": "2025-06-18"}
    opened = httpx.post(server.url, json=INITIALIZE, headers=headers, timeout=30)
    assert opened.status_code == 200
    session_id = opened.headers["mcp-session-id"]
    closed = httpx.delete(server.url, headers={**headers, "mcp-session-id": session_id}, timeout=30)
    assert closed.status_code == 200
    fingerprint = f"[session_id_hash={session_id_hash(session_id)}]"
    logs = server.logs(since=start)
    assert f"Terminating session: {fingerprint}" in logs
    assert f"Created new transport with session ID: {fingerprint}" in logs
    assert session_id not in logs
