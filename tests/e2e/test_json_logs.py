"""``OSCAL_MCP_LOG_FORMAT=json``: every line the real server writes is one JSON object; refusals and
tool calls carry their audit fields, hostile values stay escaped on their line and bounded, and no
token or raw session id appears."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.e2e.clients import MCP_HEADERS, bearer, mcp_client, post_initialize
from tests.e2e.mcp_server import McpServerProcess

pytestmark = [pytest.mark.e2e]

READER_KEY = "reader-key-0123456789abcdef"
GUEST_KEY = "guest-key-0123456789abcdef"
WRONG_KEY = "not-a-known-key-0123456789"
HOSTILE_CLIENT = 'guest\n{"level": "CRITICAL"}\u2028' + "x" * 2000


def keys_file(directory: Path) -> Path:
    def entry(client_id: str, key: str, scopes: list[str]) -> dict[str, object]:
        return {"client_id": client_id, "scopes": scopes, "key_sha256": hashlib.sha256(key.encode()).hexdigest()}

    path = directory / "keys.json"
    keys = [entry("reader", READER_KEY, ["oscal:read"]), entry(HOSTILE_CLIENT, GUEST_KEY, ["other"])]
    path.write_text(json.dumps({"keys": keys}))
    return path


async def call_about(url: str) -> None:
    async with mcp_client(url, READER_KEY) as client:  # the SDK client: no session
        assert not (await client.call_tool("about", {})).is_error


def call_about_in_a_session(url: str) -> str:
    """initialize, initialized, tools/call over raw HTTP in a stateful session; its id."""
    opened = post_initialize(url, bearer(READER_KEY))
    session = opened.headers["mcp-session-id"]
    headers = {**MCP_HEADERS, **bearer(READER_KEY), "mcp-session-id": session, "mcp-protocol-version": "2025-06-18"}
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert httpx.post(url, json=initialized, headers=headers, timeout=30).status_code == 202
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "about", "arguments": {}}}
    assert httpx.post(url, json=call, headers=headers, timeout=30).status_code == 200
    return session


def test_every_line_is_one_json_object_with_the_audit_fields(tmp_path: Path) -> None:
    env = {
        "OSCAL_MCP_LOG_FORMAT": "json",
        "OSCAL_AUTH_VERIFIER": "static",
        "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys_file(tmp_path)),
        "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
    }
    with McpServerProcess(env=env) as server:
        assert post_initialize(server.url, bearer(WRONG_KEY)).status_code == 401
        assert post_initialize(server.url, bearer(GUEST_KEY)).status_code == 403
        anyio.run(call_about, server.url)
        session = call_about_in_a_session(server.url)
        logged = server.logs()

    lines: list[dict[str, Any]] = [json.loads(line) for line in logged.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert all(line["time"].endswith("+00:00") for line in lines)

    rejected = [line for line in lines if line.get("outcome") == "reject"]
    denied = next(line for line in rejected if line["reason"] == "insufficient_scope")
    assert denied["client_id"].startswith('guest\n{"level"') and len(denied["client_id"]) <= 256
    assert denied["scopes"] == ["other"] and denied["logger"] == "oscal_mcp_auth"
    assert any(line["reason"] != "insufficient_scope" and line["verifier"] == "static" for line in rejected)

    calls = [line for line in lines if line.get("tool") == "about"]
    assert len(calls) == 2
    assert all(call["outcome"] == "accept" and call["tool_outcome"] == "ok" for call in calls)
    assert all(call["client_id"] == "reader" and call["scopes"] == ["oscal:read"] for call in calls)
    assert "session_id_hash" not in calls[0]  # the SDK client's sessionless request
    assert calls[1]["session_id_hash"] == hashlib.sha256(session.encode()).hexdigest()[:16]

    for secret in (READER_KEY, GUEST_KEY, WRONG_KEY):
        assert secret not in logged
    assert "\u2028" not in logged and logged.count("\n") == len(lines)
