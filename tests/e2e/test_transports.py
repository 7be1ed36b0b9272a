"""A real MCP client talks to the real server over stdio and over streamable-http."""

from __future__ import annotations

import subprocess
import sys
import tempfile

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.e2e.clients import list_tools_and_call_about, post_initialize
from tests.e2e.mcp_server import McpServerProcess, clean_environment

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_stdio_client_lists_tools_and_calls_about() -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "oscal_mcp"], env=clean_environment())
    async with Client(params) as client:
        about = await list_tools_and_call_about(client)
    assert about["transport"] == "stdio"
    assert about["auth"] == {
        "enabled": False, "verifier": None, "issuer_url": None, "resource_server_url": None, "required_scopes": [],
    }  # fmt: skip


async def test_stdio_ignores_auth_settings_with_a_warning() -> None:
    env = clean_environment({"OSCAL_AUTH_ISSUER_URL": "https://idp.example.com", "OSCAL_AUTH_VERIFIER": "jwt"})
    params = StdioServerParameters(command=sys.executable, args=["-m", "oscal_mcp"], env=env)
    with tempfile.TemporaryFile("w+") as stderr:
        async with Client(stdio_client(params, errlog=stderr)) as client:
            about = await list_tools_and_call_about(client)
        stderr.seek(0)
        logged = stderr.read()
    assert about["auth"]["enabled"] is False  # type: ignore[index]
    assert "authentication settings are ignored with the stdio transport" in logged


async def test_streamable_http_client_lists_tools_and_calls_about() -> None:
    with McpServerProcess() as server:
        async with Client(server.url) as client:
            about = await list_tools_and_call_about(client)
    assert about["transport"] == "streamable-http"
    assert about["caller"] is None
    assert "Uvicorn running" in server.logs()


async def test_stateless_http_mode_serves_clients() -> None:
    with McpServerProcess("--stateless-http") as server:
        async with Client(server.url) as client:
            await list_tools_and_call_about(client)


def test_non_loopback_bind_without_auth_never_starts() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oscal_mcp", "--transport", "streamable-http", "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=60, env=clean_environment(),
    )  # fmt: skip
    assert result.returncode == 2
    assert "--allow-unauthenticated" in result.stderr
    assert "Uvicorn running" not in result.stderr


def test_stateful_sessions_are_bounded() -> None:
    with McpServerProcess(env={"OSCAL_MCP_MAX_SESSIONS": "2"}) as server:
        statuses = [post_initialize(server.url).status_code for _ in range(3)]
    assert statuses == [200, 200, 503]  # memory stays bounded: a third session is refused
