"""The HTTP layer every call to an Authorization Server goes through: `request_json` reads a body up
to its size limit, whether the server declares the length (refused before reading) or streams it
without one (refused once the count passes the limit), and names the request in its failures;
`new_client` asks for JSON under its own name, follows no redirect and bounds its connections."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from oscal_mcp_auth.http import FetchError, new_client, request_json

pytestmark = pytest.mark.anyio
URL = "https://as.example.com/jwks"
LIMIT = 1024
EXACT = b'"' + b"x" * (LIMIT - 2) + b'"'  # a JSON string of exactly LIMIT bytes


class Chunks(httpx.AsyncByteStream):
    """A body sent in chunks with no Content-Length, as a chunked transfer."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


async def fetch(response: httpx.Response) -> object:
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda request: response)) as client:
        return (await request_json(client, "GET", URL, max_bytes=LIMIT)).body


async def refusal(response: httpx.Response) -> FetchError:
    with pytest.raises(FetchError) as refused:
        await fetch(response)
    return refused.value


async def test_a_streamed_body_of_exactly_the_limit_is_read() -> None:
    assert await fetch(httpx.Response(200, stream=Chunks(EXACT[:512], EXACT[512:]))) == "x" * (LIMIT - 2)


async def test_a_streamed_body_past_the_limit_is_refused_whatever_its_chunks() -> None:
    refused = await refusal(httpx.Response(200, stream=Chunks(b'"' + b"x" * 600, b"x" * 600 + b'"')))
    assert (refused.reason, refused.detail) == ("too_large", f"{URL} sent more than {LIMIT} bytes")


async def test_a_declared_length_of_exactly_the_limit_is_read() -> None:
    assert await fetch(httpx.Response(200, content=EXACT)) == "x" * (LIMIT - 2)


async def test_a_declared_length_past_the_limit_is_refused_before_reading() -> None:
    refused = await refusal(httpx.Response(200, headers={"content-length": "2000"}, stream=Chunks(b"{}")))
    assert (refused.reason, refused.detail) == ("too_large", f"{URL} declared 2000 bytes; the limit is {LIMIT}")


async def test_a_timeout_of_one_phase_names_the_request() -> None:
    def too_slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(too_slow)) as client:
        with pytest.raises(FetchError) as refused:
            await request_json(client, "GET", URL, max_bytes=LIMIT)
    assert (refused.value.reason, refused.value.detail) == ("timeout", f"GET {URL} timed out")


@respx.mock
async def test_the_pooled_client_asks_for_json_as_oscal_mcp_auth_and_never_follows_a_redirect() -> None:
    route = respx.get(URL).respond(302, headers={"location": "https://elsewhere.example.com/jwks"}, json={})
    elsewhere = respx.get("https://elsewhere.example.com/jwks").respond(json={"keys": []})
    async with new_client() as client:
        assert (await request_json(client, "GET", URL)).status_code == 302
    (call,) = route.calls
    assert (call.request.headers["accept"], call.request.headers["user-agent"]) == (
        "application/json",
        "oscal-mcp-auth",
    )
    assert not elsewhere.called


async def test_the_pooled_client_opens_at_most_100_connections_to_the_authorization_server() -> None:
    """101 concurrent requests to a loopback server that answers once 101 connections are open, or
    after a second: the pool keeps the 101st waiting, so at most 100 are ever open at once."""
    open_now, most, enough = 0, 0, asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        if open_now > 100:
            enough.set()
        await reader.readuntil(b"\r\n\r\n")
        await enough.wait()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
        await writer.drain()
        writer.close()
        open_now -= 1

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/metadata"
    asyncio.get_running_loop().call_later(1.0, enough.set)
    async with server, new_client(10) as client:
        answers = await asyncio.gather(*(request_json(client, "GET", url, total_timeout=10) for _ in range(101)))
    assert [answer.body for answer in answers] == [{}] * 101
    assert most == 100


async def test_the_pooled_client_keeps_at_most_20_idle_connections_alive() -> None:
    """Two bursts of 30 concurrent requests to a keep-alive loopback server (each burst answered once
    all 30 wait, or after a second): the second burst reuses at most 20 connections of the first."""
    accepted, waiting, burst = 0, 0, asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted, waiting
        accepted += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):  # the client closed it
            while await reader.readuntil(b"\r\n\r\n"):
                waiting += 1
                if waiting == 30:
                    burst.set()
                await burst.wait()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/metadata"
    loop = asyncio.get_running_loop()
    async with server, new_client(10) as client:
        for _ in range(2):
            waiting, burst = 0, asyncio.Event()
            loop.call_later(1.0, burst.set)
            await asyncio.gather(*(request_json(client, "GET", url, total_timeout=10) for _ in range(30)))
        server.close()
    assert accepted - 30 >= 10  # 10 of the first burst's connections were not kept (more if idle ones expired)
