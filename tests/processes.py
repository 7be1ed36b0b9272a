"""Stopping the helper processes tests start (redis-server, Prometheus, an example server)."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen[bytes] | None, grace_seconds: float = 10) -> None:
    """SIGTERM a process that still runs, SIGKILL it when it has not ended after `grace_seconds`."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
