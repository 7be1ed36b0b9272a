"""OSCAL_MCP_HEADER_TIMEOUT_SECONDS over real loopback sockets: a connection that does not finish
its request head in time is closed (no auth needed to try), one whose head is complete is not.

Every wait is bounded by a socket timeout far above the deadline; nothing asserts how fast the
server is, only what it does.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from tests.e2e.clients import INITIALIZE
from tests.e2e.mcp_server import McpServerProcess

pytestmark = [pytest.mark.e2e]

DEADLINE_SECONDS = 1
BOUND_SECONDS = 30  # a socket the server never closes fails the test after this, instead of hanging
PARTIAL_HEAD = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


@pytest.fixture(scope="module")
def server() -> Iterator[McpServerProcess]:
    with McpServerProcess(env={"OSCAL_MCP_HEADER_TIMEOUT_SECONDS": str(DEADLINE_SECONDS)}) as process:
        yield process


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes `sock` (EOF or reset) before the bound."""
    sock.settimeout(BOUND_SECONDS)
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_many_connections_that_never_finish_their_headers_are_all_closed(server: McpServerProcess) -> None:
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=BOUND_SECONDS) for _ in range(40)]
    try:
        for index, sock in enumerate(sockets):
            if index % 2:
                sock.sendall(PARTIAL_HEAD)  # half of them half a head, the others nothing at all
        assert all(closed_by_server(sock) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def test_a_head_sent_a_byte_at_a_time_does_not_hold_the_connection(server: McpServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=BOUND_SECONDS) as sock:
        trickle = PARTIAL_HEAD * 100  # far longer than the deadline at one byte per 0.2 s
        stopped = False
        started = time.monotonic()
        for byte in trickle:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                stopped = True
                break
            time.sleep(0.2)
            if time.monotonic() - started > BOUND_SECONDS:
                break
        assert stopped or closed_by_server(sock)


def test_a_complete_head_with_a_slow_body_is_answered(server: McpServerProcess) -> None:
    body = json.dumps(INITIALIZE).encode()
    head = (
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Accept: application/json, text/event-stream\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=BOUND_SECONDS) as sock:
        sock.sendall(head)
        time.sleep(3 * DEADLINE_SECONDS)  # past the header deadline: only the head counts
        sock.sendall(body)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


def test_a_kept_alive_connection_gets_a_new_deadline_for_its_next_head(server: McpServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=BOUND_SECONDS) as sock:
        sock.sendall(b"GET /nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 404 ")
        length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
        while len(body) < length:
            body += sock.recv(4096)
        time.sleep(0.5)  # the first answer is complete: the connection now waits for the next head
        sock.sendall(PARTIAL_HEAD)  # the next request, never finished
        assert read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bool:
    """Read whatever the server still sends; whether it then closes `sock` before the bound."""
    sock.settimeout(BOUND_SECONDS)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True
