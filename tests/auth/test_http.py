"""`request_json` reads a body up to its size limit, whether the server declares the length
(refused before reading) or streams it without one (refused once the count passes the limit)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from oscal_mcp_auth.http import FetchError, request_json

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
