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
    """A port free at this instant; whoever binds it later may lose it to another process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listens_on(pid: int, port: int) -> bool:
    """Whether process `pid` itself holds a listening TCP socket on `port` (Linux /proc).

    Proof of readiness that does not depend on the server's log level: the socket inode listed
    as LISTEN for the port in /proc/net/tcp{,6} must be one of the process's open descriptors.
    """
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{inode}]")
    if not inodes:
        return False
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in descriptors:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            continue
    return False


class PortTakenError(RuntimeError):
    """The server could not bind its port: another process took it after `free_port` chose it."""


# Ports a start may try: the first is chosen up front (tests may put it in URLs before the start).
_PORT_ATTEMPTS = 3


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

    def start(self, timeout: float = 30.0, *, new_port_on_clash: bool = True) -> McpServerProcess:
        """Start and return once the child itself reports listening on our port.

        If another process took the port first, start again on a new one, unless
        `new_port_on_clash` is False (the port is already in someone's configuration): then
        `PortTakenError` is raised.
        """
        for attempt in range(_PORT_ATTEMPTS):
            try:
                return self._start_once(timeout)
            except PortTakenError:
                if not new_port_on_clash or attempt == _PORT_ATTEMPTS - 1:
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> McpServerProcess:
        command = [
            self._python, "-m", "oscal_mcp", "--transport", "streamable-http",
            "--host", "127.0.0.1", "--port", str(self.port), "--path", self.path, *self._args,
        ]  # fmt: skip
        started_at = self.log_position()
        self.process = subprocess.Popen(
            command, env=self.env, cwd=self._cwd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log
        )
        _RUNNING.add(self.process)
        # uvicorn logs this line only after its own bind() and listen() succeeded, so the port is
        # held by our child: any TCP accept could have come from another process's server. With a
        # log level above INFO (the benchmarks) the socket table proves the same.
        listening = f"Uvicorn running on http://127.0.0.1:{self.port} "
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            logged = self.logs(since=started_at)
            if self.process.poll() is not None:
                if "address already in use" in logged:
                    raise PortTakenError(f"port {self.port} was taken by another process:\n{logged}")
                raise RuntimeError(f"oscal-mcp exited with {self.process.returncode}:\n{logged}")
            if listening in logged or listens_on(self.process.pid, self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"oscal-mcp did not listen within {timeout} s:\n{self.logs(since=started_at)}")

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

    def logs(self, since: int = 0) -> str:
        """What the server logged, from position `since` (a `log_position()`) on.

        A test that looks for a reason word reads only what its own requests caused.
        """
        self._log.flush()
        self._log.seek(since)
        return self._log.read().decode(errors="replace")

    def log_position(self) -> int:
        """Where the log ends now."""
        self._log.flush()
        return self._log.seek(0, os.SEEK_END)

    def __enter__(self) -> McpServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@atexit.register
def _kill_leftovers() -> None:
    for process in list(_RUNNING):
        if process.poll() is None:
            process.kill()
