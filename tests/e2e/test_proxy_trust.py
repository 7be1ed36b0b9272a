"""OSCAL_MCP_FORWARDED_ALLOW_IPS is what uvicorn is told, not its defaults or its own environment
variable: with the list empty, no address's X-Forwarded-For / -Proto is believed."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.mcp_server import McpServerProcess

pytestmark = [pytest.mark.e2e]

FORGED = {"X-Forwarded-For": "203.0.113.66", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize(
    ("setting", "believed"),
    [("", False), ("10.0.0.0/8", False), ("127.0.0.1,::1", True)],
)
def test_forwarded_headers_are_believed_only_from_the_listed_proxies(setting: str, believed: bool) -> None:
    env = {"OSCAL_MCP_FORWARDED_ALLOW_IPS": setting, "FORWARDED_ALLOW_IPS": "*"}  # uvicorn's own: ignored
    with McpServerProcess(env=env) as server:
        response = httpx.get(f"{server.base_url}/mcp/", headers=FORGED, timeout=30)
        logs = server.logs()
    assert response.status_code == 307
    scheme = "https" if believed else "http"
    assert response.headers["location"] == f"{scheme}://127.0.0.1:{server.port}/mcp"
    assert ("203.0.113.66" in logs) is believed
