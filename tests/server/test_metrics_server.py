"""The server's own metrics, in process: tool calls by tool and outcome (an unknown name is one
label, ``unknown``), their durations, sessions, and the build."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from oscal_mcp.config import load_settings
from oscal_mcp.metrics import new_registry
from oscal_mcp.server import build_http_app
from tests.server.http_helpers import MCP_HEADERS

HEADERS = {**MCP_HEADERS, "mcp-protocol-version": "2025-06-18"}


def call(client: TestClient, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    answer = client.post("/mcp", json=message, headers=HEADERS)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def serving_with(registry: CollectorRegistry) -> TestClient:
    values = {"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_MCP_STATELESS_HTTP": "true",
              "OSCAL_MCP_JSON_RESPONSE": "true"}  # fmt: skip
    return TestClient(build_http_app(load_settings(values), metrics=registry), base_url="http://127.0.0.1:8000")


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


def test_sessions_build_and_process_are_exposed() -> None:
    registry = new_registry()
    with serving_with(registry):
        assert registry.get_sample_value("oscal_mcp_sessions_open") == 0  # stateless: none kept
        assert registry.get_sample_value("oscal_mcp_sessions_per_principal_max") == 0
    build = [family for family in registry.collect() if family.name == "oscal_mcp_build_info"]
    assert build and build[0].samples[0].value == 1 and build[0].samples[0].labels["version"]
    assert registry.get_sample_value("process_cpu_seconds_total") is not None
