"""podman for the container end-to-end tests: the image built by `make image`'s own script, and
containers that are always removed, whatever happens to the test.

podman reads the repository's deploy/container/containers.conf and storage.conf (runc, lower
ulimits, native overlay), exactly as `make image` does.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

REPO = Path(__file__).resolve().parents[2]
CONTAINER_DIR = REPO / "deploy" / "container"
BUILD_SCRIPT = CONTAINER_DIR / "build_image.py"
TEST_LABEL = "io.oscal-mcp.test=e2e"

_CREATED: set[str] = set()


def podman_environment() -> dict[str, str]:
    return {
        **os.environ,
        "CONTAINERS_CONF": str(CONTAINER_DIR / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(CONTAINER_DIR / "storage.conf"),
    }


def podman(*arguments: str, check: bool = True, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["podman", *arguments], env=podman_environment(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"podman {' '.join(arguments)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def build(*flags: str, timeout: float = 900.0) -> tuple[str, float]:
    """The image reference `make image`'s script prints, and how long the script took (its
    progress lines, cached or built, go to our stderr: pytest -s shows them)."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), *flags], capture_output=True, text=True, timeout=timeout, check=False
    )
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"{BUILD_SCRIPT.name} {' '.join(flags)} failed:\n{result.stderr[-4000:]}")
    return result.stdout.strip().splitlines()[-1], time.monotonic() - started


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Container:
    """``podman run --detach`` with our label; removed (``rm --force``) on leaving the with block."""

    def __init__(self, image: str, *, options: Sequence[str] = (), arguments: Sequence[str] = ()) -> None:
        self.name = unique_name("oscal-mcp-e2e")
        self._command = ["run", "--detach", "--name", self.name, "--label", TEST_LABEL, *options, image, *arguments]

    def __enter__(self) -> Self:
        _CREATED.add(self.name)
        podman(*self._command)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        remove(self.name)

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def state(self, field: str) -> str:
        return podman("inspect", "--format", f"{{{{.State.{field}}}}}", self.name).stdout.strip()

    def wait_exit(self, timeout: float = 60.0) -> int:
        """The exit code, polled: a foreground ``podman wait`` can hang 20 s after the exit here."""
        deadline = time.monotonic() + timeout
        # "stopped": the process has ended but podman has not yet run its clean-up; the code is known.
        while self.state("Status") not in ("exited", "stopped"):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} still runs after {timeout} s:\n{self.logs()}")
            time.sleep(0.1)
        return int(self.state("ExitCode"))

    def process_uid(self) -> int:
        """The real uid of the container's main process, as the host's /proc shows it (no user namespace)."""
        status = Path(f"/proc/{self.state('Pid')}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])

    def wait_http(self, url: str, headers: Mapping[str, str] | None = None, timeout: float = 90.0) -> None:
        """Until `url` answers at all; fails at once, with the logs, if the container has stopped."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.TransportError):
                httpx.get(url, headers=headers, timeout=2)
                return
            if self.state("Status") != "running":
                raise AssertionError(f"{self.name} stopped:\n{self.logs()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer within {timeout} s:\n{self.logs()}")
            time.sleep(0.2)


def remove(name: str) -> None:
    podman("rm", "--force", "--time", "3", "--ignore", name, check=False)
    _CREATED.discard(name)


@atexit.register
def _remove_leftovers() -> None:
    for name in list(_CREATED):
        remove(name)
