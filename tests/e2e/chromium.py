"""A real browser for end-to-end tests: Debian's headless Chromium, and a static site it loads pages from.

``dump_dom`` runs ``chromium --headless --dump-dom`` with a fresh profile: the page runs its
scripts (virtual time waits while their requests are in flight) and the DOM after that is returned.
Nothing is downloaded; the browser is the system's.
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAGES = Path(__file__).resolve().parent / "browser"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
_FINDINGS = re.compile(r'<pre id="findings" data-done="true">(.*?)</pre>', re.DOTALL)


class ChromiumError(RuntimeError):
    """Chromium is missing, failed, or the page did not report its findings."""


def chromium_executable() -> str:
    found = shutil.which("chromium")
    if found is None:
        raise ChromiumError("chromium is not installed: apt-get install chromium (make setup does, as root)")
    return found


def dump_dom(url: str, *, virtual_time_budget_ms: int = 20_000, timeout: float = 90.0) -> str:
    """The DOM of `url` once its scripts are done (or the virtual time budget is spent)."""
    with tempfile.TemporaryDirectory(prefix="chromium-test-") as profile:
        command = [
            chromium_executable(), *FLAGS, f"--user-data-dir={profile}",
            f"--virtual-time-budget={virtual_time_budget_ms}", "--dump-dom", url,
        ]  # fmt: skip
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,  # own process group: a hung browser is stopped with all its helpers
        )  # fmt: skip
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ChromiumError(f"chromium did not finish {url} within {timeout} s") from None
    if process.returncode != 0:
        raise ChromiumError(f"chromium exited with {process.returncode}:\n{stderr.decode(errors='replace')[-4000:]}")
    return stdout.decode(errors="replace")


def page_findings(url: str) -> dict[str, Any]:
    """Load a page that writes JSON into ``<pre id="findings" data-done="true">`` and return that JSON."""
    dom = dump_dom(url)
    match = _FINDINGS.search(dom)
    if match is None:
        raise ChromiumError(f"the page did not report its findings; its DOM:\n{dom[-4000:]}")
    findings: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return findings


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticSite:
    """tests/e2e/browser/ served on a free loopback port: one origin, ``http://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        handler = functools.partial(_QuietHandler, directory=str(PAGES))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"static-site-{self.port}", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
