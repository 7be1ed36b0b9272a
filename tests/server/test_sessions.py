"""`SessionLedger` in process, with a stand-in for the SDK's app: what the real-HTTP tests
(tests/e2e/test_session_quota.py) cannot reach deterministically."""

from __future__ import annotations

import itertools

import anyio
import pytest
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.types import Receive, Scope, Send

from oscal_mcp.sessions import SessionCounts, SessionLedger
from tests.asgi_calls import sent_messages

pytestmark = pytest.mark.anyio

_ids = itertools.count()


class FakeSessionApp:
    """Answers a request without a session id with a new one, after `gate` opens."""

    def __init__(self) -> None:
        self.gate = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: list[tuple[bytes, bytes]] = []
        if not any(name == b"mcp-session-id" for name, _ in scope["headers"]):
            await self.gate.wait()
            headers.append((b"mcp-session-id", f"s{next(_ids)}".encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})


def request(client_id: str) -> Scope:
    token = AccessToken(token="t", client_id=client_id, scopes=[], expires_at=None)
    return {"type": "http", "method": "POST", "headers": [], "user": AuthenticatedUser(token)}


async def call(quota: SessionLedger, scope: Scope) -> int:
    sent = await sent_messages(quota, scope)
    return int(sent[0]["status"])


async def test_concurrent_opening_requests_cannot_overshoot_the_quota() -> None:
    app = FakeSessionApp()
    quota = SessionLedger(app, per_principal=2, idle_seconds=60)
    statuses: list[int] = []

    async def open_one() -> None:
        statuses.append(await call(quota, request("alice")))

    async with anyio.create_task_group() as group:
        for _ in range(2):
            group.start_soon(open_one)
        await anyio.wait_all_tasks_blocked()  # both admitted, neither answered yet
        statuses.append(await call(quota, request("alice")))  # a third, while two are pending
        app.gate.set()
    assert sorted(statuses) == [200, 200, 429]
    assert quota.open_sessions(("alice", None, None)) == 2


def anonymous() -> Scope:
    return {"type": "http", "method": "POST", "headers": []}


async def test_unauthenticated_sessions_are_counted_under_no_quota() -> None:
    app = FakeSessionApp()
    app.gate.set()
    ledger = SessionLedger(app, per_principal=1, idle_seconds=60)
    assert [await call(ledger, anonymous()) for _ in range(3)] == [200, 200, 200]
    assert ledger.counts() == SessionCounts(open=3, per_principal_max=0)  # no authenticated principal


async def test_counts_are_the_total_and_the_most_one_authenticated_principal_holds() -> None:
    app = FakeSessionApp()
    app.gate.set()
    ledger = SessionLedger(app, per_principal=5, idle_seconds=60)
    assert ledger.counts() == SessionCounts(open=0, per_principal_max=0)
    for scope in (request("alice"), request("alice"), request("bob"), anonymous(), anonymous(), anonymous()):
        assert await call(ledger, scope) == 200
    assert ledger.counts() == SessionCounts(open=6, per_principal_max=2)  # the anonymous 3 are no principal's


async def test_counts_leave_out_expired_sessions() -> None:
    app = FakeSessionApp()
    app.gate.set()
    now = [1000.0]
    ledger = SessionLedger(app, per_principal=5, idle_seconds=60, clock=lambda: now[0])
    assert await call(ledger, request("alice")) == 200
    assert await call(ledger, anonymous()) == 200
    now[0] += 59
    assert ledger.counts() == SessionCounts(open=2, per_principal_max=1)
    now[0] += 1  # the idle timeout has passed for both, and no request has swept them
    assert ledger.counts() == SessionCounts(open=0, per_principal_max=0)


async def test_principals_who_never_come_back_are_forgotten_once_their_sessions_expire() -> None:
    app = FakeSessionApp()
    app.gate.set()
    quota = SessionLedger(app, per_principal=5, idle_seconds=0.05)
    for client in ("a", "b", "c"):
        assert await call(quota, request(client)) == 200
    assert len(quota._owners) == 3
    await anyio.sleep(0.1)  # longer than the idle timeout: their sessions have expired
    assert await call(quota, request("d")) == 200  # an admission sweeps
    assert set(quota._owners) == {("d", None, None)}
