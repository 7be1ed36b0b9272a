"""Run the real `oscal-mcp` command as a subprocess on 127.0.0.1 and stop it afterwards."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

_RUNNING: set[subprocess.Popen[bytes]] = set()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without any OSCAL_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    env.update(extra or {})
    return env


class McpServerProcess:
    """`python -m oscal_mcp --transport streamable-http` on a free loopback port."""

    def __init__(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        python: str = sys.executable,
        path: str = "/mcp",
    ) -> None:
        self.port = free_port()
        self.path = path
        self._args: Sequence[str] = args
        self.env = clean_environment(env)
        self._cwd = cwd
        self._python = python
        self._log: IO[bytes] = tempfile.TemporaryFile()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def start(self, timeout: float = 30.0) -> McpServerProcess:
        command = [
            self._python, "-m", "oscal_mcp", "--transport", "streamable-http",
            "--host", "127.0.0.1", "--port", str(self.port), "--path", self.path, *self._args,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, env=self.env, cwd=self._cwd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log
        )
        _RUNNING.add(self.process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oscal-mcp exited with {self.process.returncode}:\n{self.logs()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"oscal-mcp did not listen within {timeout} s:\n{self.logs()}")

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _RUNNING.discard(process)

    def logs(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def __enter__(self) -> McpServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@atexit.register
def _kill_leftovers() -> None:
    for process in list(_RUNNING):
        if process.poll() is None:
            process.kill()
