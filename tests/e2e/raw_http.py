"""Raw HTTP/1.1 over a socket, for requests that HTTP clients refuse to send (control characters,
duplicate headers, oversized values)."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass

from tests.e2e.clients import INITIALIZE


@dataclass(frozen=True)
class RawResponse:
    status: int
    head: bytes
    body: bytes


def raw_post(port: int, path: str, headers: list[tuple[str, str]], timeout: float = 15.0) -> RawResponse:
    body = json.dumps(INITIALIZE).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        "Accept: application/json, text/event-stream",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = _read_all(sock, limit=1 << 20)
    head, _, rest = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return RawResponse(status, head, rest)


def _read_all(sock: socket.socket, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
