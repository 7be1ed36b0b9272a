"""A real Prometheus (Debian package ``prometheus``) on 127.0.0.1, scraping given targets, for
end-to-end tests: a temporary configuration and storage, a one-second scrape interval, stopped
afterwards. Queries go through its own HTTP API (``/api/v1/query``)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.mcp_server import free_port
from tests.processes import stop_process

SCRAPE_INTERVAL = "1s"


class PrometheusServer:
    def __init__(self, targets: list[str], job: str = "oscal-mcp") -> None:
        executable = shutil.which("prometheus")
        if executable is None:
            raise RuntimeError("prometheus is not installed: apt-get install prometheus (make setup does, as root)")
        self._executable = executable
        self._dir = tempfile.TemporaryDirectory(prefix="prometheus-test-")
        self.port = free_port()
        self._targets = targets
        self._job = job
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> PrometheusServer:
        root = Path(self._dir.name)
        targets = ", ".join(f'"{target}"' for target in self._targets)
        (root / "prometheus.yml").write_text(
            f"global:\n  scrape_interval: {SCRAPE_INTERVAL}\n  evaluation_interval: {SCRAPE_INTERVAL}\n"
            f"scrape_configs:\n  - job_name: {self._job}\n    static_configs:\n      - targets: [{targets}]\n"
        )
        command = [
            self._executable, f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"prometheus was not ready within {timeout} s")

    def query(self, expression: str) -> list[dict[str, Any]]:
        """The instant vector of `expression` (each item has ``metric`` labels and ``value``)."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expression}, timeout=10).json()
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def value(self, expression: str) -> float | None:
        """The single value of `expression`, or None while it has no sample."""
        result = self.query(expression)
        return float(result[0]["value"][1]) if result else None

    def targets_up(self) -> bool:
        return self.value(f'min(up{{job="{self._job}"}})') == 1.0

    def stop(self) -> None:
        stop_process(self.process, grace_seconds=10)

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._dir.cleanup()
