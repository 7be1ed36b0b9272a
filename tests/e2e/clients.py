"""Clients for end-to-end tests: the SDK's MCP client with a bearer token, and raw HTTP probes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}},
}
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


@asynccontextmanager
async def mcp_client(url: str, token: str | None = None, auth: httpx2.Auth | None = None) -> AsyncIterator[Client]:
    """The SDK's MCP client over streamable-http, sending `token` as a bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with (
        create_mcp_http_client(headers=headers, auth=auth) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


async def list_tools_and_call_about(client: Client) -> dict[str, object]:
    """The `about` tool's answer, after checking the tool list offers it and the call succeeds."""
    tools = await client.list_tools()
    assert "about" in {tool.name for tool in tools.tools}
    result = await client.call_tool("about", {})
    assert result.is_error is False
    assert result.structured_content is not None
    return result.structured_content


def post_initialize(url: str, headers: dict[str, str] | list[tuple[str, str]] | None = None) -> httpx.Response:
    """One raw MCP initialize POST, to look at status codes and challenge headers."""
    merged: list[tuple[str, str]] = list(MCP_HEADERS.items())
    merged += list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    return httpx.post(url, json=INITIALIZE, headers=merged, timeout=30)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def challenge_params(response: httpx.Response, scheme: str = "Bearer") -> dict[str, Any]:
    """Parse the `scheme` challenge, `WWW-Authenticate: Bearer a="b", c="d"`, into a dict (the scheme
    under key ''). A server that takes DPoP too sends a second challenge, `DPoP algs="…", …`."""
    value = next(v for v in response.headers.get_list("www-authenticate") if v.split(" ")[0] == scheme)
    name, _, rest = value.partition(" ")
    params: dict[str, Any] = {"": name}
    for part in rest.split('", '):
        if "=" in part:
            key, _, raw = part.partition("=")
            params[key.strip()] = raw.strip().strip('"')
    return params
