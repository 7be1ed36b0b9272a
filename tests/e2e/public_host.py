"""Clients that use a public host name while connecting to 127.0.0.1, like ``curl --resolve``.

A deployment test wants the request line and ``Host`` header a real client sends to
``http://oscal.example.test:<port>/mcp`` without touching DNS or /etc/hosts: the URL keeps the
public name (so the ``Host`` header and everything the SDK derives from the URL do), and only the
connection goes to the loopback address on the same port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

LOOPBACK = "127.0.0.1"


class LoopbackTransport(httpx2.AsyncBaseTransport):
    """Sends every request to 127.0.0.1 on its URL's port; the request keeps its ``Host`` header."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        # With stream=..., httpx2 adds no header of its own: Host stays the public name.
        rerouted = httpx2.Request(
            request.method,
            request.url.copy_with(host=LOOPBACK),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(rerouted)

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def public_mcp_client(url: str, token: str) -> AsyncIterator[Client]:
    """The SDK's MCP client for a public `url`, sending `token`, connected through 127.0.0.1."""
    timeout = httpx2.Timeout(30.0, read=300.0)  # the SDK's own client defaults
    async with (
        httpx2.AsyncClient(
            transport=LoopbackTransport(), headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        ) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client
