"""The server's own metrics, in process: tool calls by tool and outcome (an unknown name is one
label, ``unknown``), their durations, sessions, and the build."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from oscal_mcp.config import load_settings
from oscal_mcp.http_app import build_http_app
from oscal_mcp.metrics import new_registry
from tests.server.http_helpers import INITIALIZE, MCP_HEADERS, auth_values, bearer

HEADERS = {**MCP_HEADERS, "mcp-protocol-version": "2025-06-18"}


def call(client: TestClient, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    answer = client.post("/mcp", json=message, headers=HEADERS)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def serving_with(registry: CollectorRegistry, **values: str) -> TestClient:
    settings = {"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_MCP_STATELESS_HTTP": "true",
                "OSCAL_MCP_JSON_RESPONSE": "true", **values}  # fmt: skip
    return TestClient(build_http_app(load_settings(settings), metrics=registry), base_url="http://127.0.0.1:8000")


def open_session(client: TestClient, headers: dict[str, str]) -> str:
    answer = client.post("/mcp", json=INITIALIZE, headers={**headers, "mcp-protocol-version": "2025-06-18"})
    assert answer.status_code == 200, answer.text
    return answer.headers["mcp-session-id"]


def session_gauges(registry: CollectorRegistry) -> tuple[float | None, float | None]:
    return (
        registry.get_sample_value("oscal_mcp_sessions_open"),
        registry.get_sample_value("oscal_mcp_sessions_per_principal_max"),
    )


def test_tool_calls_are_counted_by_tool_and_outcome() -> None:
    registry = new_registry()
    with serving_with(registry) as client:
        assert call(client, "about", {})["result"]["isError"] is False
        failed = call(client, "get_oscal_schema", {"model": "no-such-model"})
        unknown = call(client, "x" * 300, {})
    assert failed["result"]["isError"] is True
    assert "error" in unknown or unknown["result"]["isError"] is True
    calls = "oscal_mcp_tool_calls_total"
    assert registry.get_sample_value(calls, {"tool": "about", "outcome": "ok"}) == 1
    assert registry.get_sample_value(calls, {"tool": "get_oscal_schema", "outcome": "error"}) == 1
    assert registry.get_sample_value(calls, {"tool": "unknown", "outcome": "error"}) == 1
    assert registry.get_sample_value("oscal_mcp_tool_call_seconds_count", {"tool": "about"}) == 1


def test_a_stateless_server_reports_no_session() -> None:
    registry = new_registry()
    with serving_with(registry) as client:
        assert client.post("/mcp", json=INITIALIZE, headers=HEADERS).status_code == 200
        assert session_gauges(registry) == (0, 0)  # stateless: none kept


def test_a_stateful_server_without_auth_counts_its_sessions_under_no_principal() -> None:
    registry = new_registry()
    with serving_with(registry, OSCAL_MCP_STATELESS_HTTP="false") as client:
        first = open_session(client, MCP_HEADERS)
        open_session(client, MCP_HEADERS)
        open_session(client, MCP_HEADERS)
        assert session_gauges(registry) == (3, 0)
        ended = client.delete("/mcp", headers={**MCP_HEADERS, "mcp-session-id": first})
        assert ended.status_code == 200
        assert session_gauges(registry) == (2, 0)


def two_readers(directory: Path) -> dict[str, str]:
    """Auth settings with two clients allowed to open sessions, `alice` and `bob` (their keys)."""
    entries = [
        {"client_id": name, "scopes": ["oscal:read"], "key_sha256": hashlib.sha256(name.encode() * 4).hexdigest()}
        for name in ("alice", "bob")
    ]
    keys = directory / "readers.json"
    keys.write_text(json.dumps({"keys": entries}))
    return {**auth_values(directory), "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys)}


def test_a_stateful_server_with_auth_reports_the_most_one_principal_holds(tmp_path: Path) -> None:
    registry = new_registry()
    with serving_with(registry, OSCAL_MCP_STATELESS_HTTP="false", **two_readers(tmp_path)) as client:
        for _ in range(3):
            open_session(client, bearer("alice" * 4))
        bobs = open_session(client, bearer("bob" * 4))
        assert session_gauges(registry) == (4, 3)
        ended = client.delete("/mcp", headers={**bearer("bob" * 4), "mcp-session-id": bobs})
        assert ended.status_code == 200
        assert session_gauges(registry) == (3, 3)


def test_build_and_process_are_exposed() -> None:
    registry = new_registry()
    with serving_with(registry):
        pass
    build = [family for family in registry.collect() if family.name == "oscal_mcp_build_info"]
    assert build and build[0].samples[0].value == 1 and build[0].samples[0].labels["version"]
    assert registry.get_sample_value("process_cpu_seconds_total") is not None
