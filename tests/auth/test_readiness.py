"""Readiness of the verifier: the backend's own `ready()`, failing closed when it raises; a plugin
backend without one counts as ready. Readiness of Redis: a PING to a real redis-server."""

from __future__ import annotations

import socket
import threading
import time

import anyio
import pytest
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig
from oscal_mcp_auth.hooks import create_plugin_manager
from oscal_mcp_auth.readiness import RedisProbe
from oscal_mcp_auth.verifier import VerificationPipeline
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio
CONFIG = AuthConfig(verifier="fake")


class Backend:
    async def verify_token(self, token: str) -> AccessToken | None:
        return None


class ReportingBackend(Backend):
    def __init__(self, answer: str | Exception | None) -> None:
        self.answer = answer

    async def ready(self) -> str | None:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def pipeline(backend: Backend) -> VerificationPipeline:
    return VerificationPipeline(backend, CONFIG, create_plugin_manager(load_entry_points=False), name="fake")


async def test_a_backend_without_ready_counts_as_ready() -> None:
    assert await pipeline(Backend()).ready() is None


async def test_the_backends_reason_word_is_the_answer() -> None:
    assert await pipeline(ReportingBackend(None)).ready() is None
    assert await pipeline(ReportingBackend("keys_unavailable")).ready() == "keys_unavailable"


async def test_a_readiness_check_that_raises_is_unready_without_its_message() -> None:
    answer = await pipeline(ReportingBackend(RuntimeError("redis://user:pw@host"))).ready()
    assert answer == "verifier_error"


async def test_a_plugins_reason_is_escaped_and_bounded() -> None:
    answer = await pipeline(ReportingBackend("bad\nline" * 40)).ready()
    assert answer is not None and "\n" not in answer and len(answer) <= 64


async def test_the_redis_probe_is_ready_while_redis_answers_ping_and_unreachable_once_it_stops(
    redis_server: RedisServer,
) -> None:
    probe = RedisProbe(redis_server.url)
    assert await probe.check() is None
    redis_server.stop()
    assert await probe.check() == "unreachable"


async def test_the_redis_probe_gives_up_on_a_server_that_never_answers() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        port = silent.getsockname()[1]
        with anyio.fail_after(30):  # far above the probe's own bound: only a hang reaches it
            assert await RedisProbe(f"redis://:pw@127.0.0.1:{port}/0", timeout_seconds=0.2).check() == "unreachable"


def _commands(data: bytes) -> list[list[bytes]]:
    """The RESP commands (arrays of bulk strings) in `data`, as a client pipelines them."""
    lines, position, commands = data.split(b"\r\n"), 0, []
    while position < len(lines) and lines[position].startswith(b"*"):
        count = int(lines[position][1:])
        commands.append([lines[position + 2 + 2 * word] for word in range(count)])
        position += 1 + 2 * count
    return commands


def _slow_redis(server: socket.socket, seconds_per_answer: float) -> None:
    """Answers HELLO, CLIENT and PING as Redis does, each after `seconds_per_answer`."""
    connection, _ = server.accept()
    with connection:
        while data := connection.recv(65536):
            for command in _commands(data):
                time.sleep(seconds_per_answer)
                name = command[0].upper()
                answer = (
                    b"%1\r\n+proto\r\n:3\r\n" if name == b"HELLO" else b"+PONG\r\n" if name == b"PING" else b"+OK\r\n"
                )
                try:
                    connection.sendall(answer)
                except OSError:
                    return


async def test_the_redis_probe_bounds_the_whole_exchange_not_only_each_answer() -> None:
    """Each answer in time (0.3 s of 0.5 s), five of them (HELLO, CLIENT..., PING) too slow together."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        thread = threading.Thread(target=_slow_redis, args=(server, 0.3), daemon=True)
        thread.start()
        probe = RedisProbe(f"redis://127.0.0.1:{server.getsockname()[1]}/0", timeout_seconds=0.5)
        with anyio.fail_after(20):  # far above the probe's own bound: only an endless wait reaches it
            assert await probe.check() == "unreachable"
    thread.join(5)
