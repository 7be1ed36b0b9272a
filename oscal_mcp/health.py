"""Health probes for orchestrators and load balancers: liveness and readiness.

``GET <health path>`` (default ``/healthz``) answers 200 while the process serves. ``GET <ready
path>`` (default ``/readyz``) answers 200 when every check passes and 503 otherwise, with a JSON
body naming each check and a status word (``ok`` or the reason, such as ``keys_unavailable``):

- ``content``: the bundled content matches its manifest;
- ``verifier`` (with authentication): the verifier can verify now: its keys are loaded, or
  fetchable, within their staleness bound (`VerificationPipeline.ready`);
- ``redis`` (with ``OSCAL_AUTH_CACHE_URL``): Redis answers ``PING``.

Both are unauthenticated and answered whatever the ``Host``: a Kubernetes probe sends the pod
address, which the DNS-rebinding guard rightly refuses on the MCP path. So `Probes` sits in front
of the guard and answers only these two paths, with status words and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from oscal_mcp.content import BundledContentError, verify_bundled_content

Check = Callable[[], Awaitable[str | None]]
CHECK_TIMEOUT_SECONDS = 10.0  # above every backend's own network timeout default
OK = "ok"


class BundledContentCheck:
    """Verifies the bundled content once (start-up already did; a worker thread, off the event loop)."""

    def __init__(self) -> None:
        self._result: str | None = None
        self._checked = False

    async def __call__(self) -> str | None:
        if not self._checked:
            try:
                await anyio.to_thread.run_sync(verify_bundled_content)
            except BundledContentError:
                self._result = "content_mismatch"
            self._checked = True
        return self._result


class Probes:
    """ASGI middleware answering the liveness and readiness paths before anything else runs."""

    def __init__(self, app: ASGIApp, *, liveness: str, readiness: str, checks: Mapping[str, Check]) -> None:
        self.app = app
        self.liveness = liveness
        self.readiness = readiness
        self.checks = dict(checks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path == self.liveness:
            await self._answer(scope, send, 200, {"status": "alive"})
        elif path == self.readiness:
            results = await _run_all(self.checks)
            ready = all(result == OK for result in results.values())
            body = {"status": "ready" if ready else "unready", "checks": results}
            await self._answer(scope, send, 200 if ready else 503, body)
        else:
            await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, send: Send, status: int, body: Mapping[str, object]) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            status, body = 405, {"status": "method_not_allowed"}
        payload = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"cache-control", b"no-store"),
        ]
        if status == 405:
            headers.append((b"allow", b"GET, HEAD"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else payload})


async def _run_all(checks: Mapping[str, Check]) -> dict[str, str]:
    """Every check at once, so a probe waits for the slowest one only (at most the bound)."""
    results = dict.fromkeys(checks, "timeout")

    async def run(name: str, check: Check) -> None:
        results[name] = await _run(check)

    async with anyio.create_task_group() as group:
        for name, check in checks.items():
            group.start_soon(run, name, check)
    return results


async def _run(check: Check) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            reason = await check()
    except TimeoutError:
        return "timeout"
    except Exception:  # a probe answers with a word; what failed is in the component's own log line
        return "error"
    return OK if reason is None else reason
