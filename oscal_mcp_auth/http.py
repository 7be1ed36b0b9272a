"""Bounded HTTP for the backends: every call has a timeout and a response-size limit.

One `httpx.AsyncClient` per backend, created at start-up and closed at shutdown. Failures become
`FetchError` with a stable reason word; callers decide whether that fails closed or serves stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024


class FetchError(Exception):
    """A request to the Authorization Server failed; `reason` is a stable word for logs."""

    def __init__(self, reason: str, detail: str, status_code: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.status_code = status_code  # when the server answered, e.g. a 401 with an HTML body


@dataclass(frozen=True)
class JsonResponse:
    status_code: int
    headers: httpx.Headers
    body: Any


def new_client(timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> httpx.AsyncClient:
    """A pooled client with the timeout applied to connect, read, write and pool acquisition."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        headers={"accept": "application/json", "user-agent": "oscal-mcp-auth"},
    )


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    total_timeout: float = DEFAULT_TIMEOUT_SECONDS,
    **kwargs: Any,
) -> JsonResponse:
    """Send a request and parse a JSON body read within `max_bytes` and `total_timeout` seconds.

    httpx's timeouts bound each phase; `total_timeout` also bounds a server that trickles its
    body byte by byte. Any status is returned: callers check it.
    """
    try:
        with anyio.fail_after(total_timeout):
            async with client.stream(method, url, **kwargs) as response:
                body = await _read_limited(response, max_bytes)
    except TimeoutError:
        raise FetchError("timeout", f"{method} {url} took longer than {total_timeout:g} s") from None
    except httpx.TimeoutException:
        raise FetchError("timeout", f"{method} {url} timed out") from None
    except httpx.HTTPError as exc:
        raise FetchError("unreachable", f"{method} {url}: {type(exc).__name__}") from None
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FetchError(
            "not_json", f"{method} {url} answered {response.status_code} with a non-JSON body", response.status_code
        ) from None
    return JsonResponse(response.status_code, response.headers, parsed)


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("too_large", f"{response.url} declared {declared} bytes; the limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError("too_large", f"{response.url} sent more than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
