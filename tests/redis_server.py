"""A real redis-server on 127.0.0.1 for tests (Debian package ``redis-server``; CI installs it)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

from tests.e2e.mcp_server import free_port
from tests.processes import stop_process


class RedisServer:
    def __init__(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed: apt-get install redis-server (make setup does, as root)")
        self._executable = executable
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="redis-test-")
        self.process: subprocess.Popen[bytes] | None = None
        self._started = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start and return once OUR redis-server answers. A restart keeps the port; a first start
        moves to another port if some other process took this one meanwhile."""
        for _ in range(3):
            if self._start_once():
                self._started = True
                return self
            if self._started:
                break
            self.port = free_port()
        raise RuntimeError(f"redis-server could not listen on port {self.port}: taken by another process")

    def _start_once(self) -> bool:
        command = [
            self._executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", self._dir.name, "--protected-mode", "yes",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                # Any Redis answers PING; only ours reports our child's process id.
                if f"process_id:{self.process.pid}\r\n".encode() in self.command("INFO", "server"):
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer within 10 s")

    def stop(self) -> None:
        stop_process(self.process, grace_seconds=5)

    def command(self, *words: str) -> bytes:
        """One command (a RESP array: any bytes pass unchanged), for tests that inspect or plant
        keys; returns the raw answer."""
        request = f"*{len(words)}\r\n".encode()
        for word in map(str.encode, words):
            request += b"$%d\r\n%s\r\n" % (len(word), word)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(request)
            return sock.recv(65536)

    def integer(self, *words: str) -> int:
        """A command whose answer is a RESP integer (``:42``), such as PTTL."""
        answer = self.command(*words)
        assert answer.startswith(b":"), answer
        return int(answer[1:].strip())

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._dir.cleanup()
