"""`SessionLedger` in process, with a stand-in for the SDK's app: what the real-HTTP tests
(tests/e2e/test_session_quota.py) cannot reach deterministically."""

from __future__ import annotations

import itertools
import json
import logging
from typing import Final

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.types import Message, Receive, Scope, Send

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


class ScriptedSdk:
    """A stand-in for the SDK's stateful app: a request without a session id gets a new one (on
    `open_status`), one with an id gets `status`; a request to ``/hold`` waits for `release`."""

    def __init__(self, *, open_status: int = 200, status: int = 200) -> None:
        self.open_status = open_status
        self.status = status
        self.release = anyio.Event()
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        assert (await receive())["type"] == "http.request"  # the request's own channel
        if scope.get("path") == "/hold":
            await self.release.wait()
        headers: list[tuple[bytes, bytes]] = []
        status = self.status
        if not any(name == b"mcp-session-id" for name, _ in scope.get("headers", [])):
            headers.append((b"Mcp-Session-Id", f"s{next(_ids)}".encode()))  # HTTP header names have no case
            status = self.open_status
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})


ALICE: Final = ("alice", None, None)


def alice(method: str = "POST", session: str | None = None, path: str = "/mcp", protocol: str | None = None) -> Scope:
    scope = request("alice")
    scope["method"], scope["path"] = method, path
    if session is not None:
        scope["headers"] = [*scope["headers"], (b"mcp-session-id", session.encode())]
    if protocol is not None:
        scope["headers"] = [*scope["headers"], (b"mcp-protocol-version", protocol.encode())]
    return scope


async def open_one(ledger: SessionLedger) -> str:
    sent = await sent_messages(ledger, alice())
    assert sent[0]["status"] == 200
    return str(dict(sent[0]["headers"])[b"Mcp-Session-Id"].decode())


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def ledger_of(
    app: ScriptedSdk, *, per_principal: int = 2, idle_seconds: float = 60, clock: Clock | None = None
) -> SessionLedger:
    return SessionLedger(app, per_principal=per_principal, idle_seconds=idle_seconds, clock=clock or Clock())


async def test_sessions_opened_one_after_another_are_refused_past_the_quota() -> None:
    ledger = ledger_of(ScriptedSdk(), per_principal=2)
    await open_one(ledger)
    await open_one(ledger)
    assert await call(ledger, alice()) == 429
    assert ledger.open_sessions(ALICE) == 2
    assert ledger.open_sessions(("bob", None, None)) == 0
    assert await call(ledger, request("bob")) == 200  # the quota is each principal's own


async def test_the_refusal_is_a_json_rpc_429_with_retry_after_and_no_store(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock(1000.0)
    ledger = ledger_of(ScriptedSdk(), per_principal=1, idle_seconds=60, clock=clock)
    await open_one(ledger)
    clock.now = 1010.5
    with caplog.at_level(logging.WARNING, logger="oscal_mcp"):
        start, body = await sent_messages(ledger, alice())
    assert start == {
        "type": "http.response.start",
        "status": 429,
        "headers": [(b"content-type", b"application/json"), (b"retry-after", b"50"), (b"cache-control", b"no-store")],
    }
    assert json.loads(body["body"]) == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": -32600,
            "message": "Too many open sessions for this client: at most 1 at once (the per-client session quota); "
            "end one with DELETE or let one expire",
        },
    }
    assert body["type"] == "http.response.body"
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("oscal_mcp", "refusing a new session: client_id='alice' holds 1 (OSCAL_MCP_MAX_SESSIONS_PER_PRINCIPAL=1)")
    ]


async def test_retry_after_is_when_the_soonest_idle_session_expires_and_at_least_one_second() -> None:
    clock = Clock(1000.0)
    ledger = ledger_of(ScriptedSdk(), per_principal=2, idle_seconds=60, clock=clock)
    await open_one(ledger)
    clock.now = 1030.0
    await open_one(ledger)
    clock.now = 1059.25  # the first expires in 0.75 s, the second in 30.75 s
    start = (await sent_messages(ledger, alice()))[0]
    assert (b"retry-after", b"1") in start["headers"]
    clock.now = 1045.0
    ledger = ledger_of(ScriptedSdk(), per_principal=1, idle_seconds=60, clock=clock)
    await open_one(ledger)
    clock.now = 1045.0 + 58.5
    assert (b"retry-after", b"2") in (await sent_messages(ledger, alice()))[0]["headers"]  # 1.5 s, rounded up


async def test_retry_after_is_the_idle_timeout_when_every_session_is_busy() -> None:
    app = ScriptedSdk()
    ledger = ledger_of(app, per_principal=1, idle_seconds=45)
    session = await open_one(ledger)
    async with anyio.create_task_group() as group:
        group.start_soon(sent_messages, ledger, alice("GET", session, path="/hold"))  # a stream kept open
        await anyio.wait_all_tasks_blocked()
        start = (await sent_messages(ledger, alice()))[0]
        app.release.set()
    assert (start["status"], dict(start["headers"])[b"retry-after"]) == (429, b"45")


async def test_a_request_of_an_open_session_is_no_new_session() -> None:
    app = ScriptedSdk()
    ledger = ledger_of(app, per_principal=1)
    session = await open_one(ledger)
    assert await call(ledger, alice(session=session)) == 200
    assert await call(ledger, alice("GET", session)) == 200
    assert ledger.open_sessions(ALICE) == 1


async def test_a_later_protocols_request_opens_no_session_and_is_never_refused() -> None:
    app = ScriptedSdk()
    ledger = ledger_of(app, per_principal=1)
    await open_one(ledger)
    assert await call(ledger, alice(protocol="2099-01-01")) == 200  # served statelessly by the SDK
    assert ledger.open_sessions(ALICE) == 1
    assert await call(ledger, alice(protocol="2025-06-18")) == 429  # a handshake version opens one
    assert await call(ledger, alice(protocol="2024-11-05")) == 429


async def test_an_error_answer_opens_no_session_even_with_a_session_id() -> None:
    for status in (400, 401, 503):
        ledger = ledger_of(ScriptedSdk(open_status=status), per_principal=1)
        assert await call(ledger, alice()) == status
        assert ledger.open_sessions(ALICE) == 0
        assert ledger._owners == {}  # nothing kept for a principal without sessions
    ledger = ledger_of(ScriptedSdk(open_status=399), per_principal=1)
    await call(ledger, alice())
    assert ledger.open_sessions(ALICE) == 1


async def test_an_answer_without_headers_opens_no_session() -> None:
    async def bare(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"{}"})

    ledger = SessionLedger(bare, per_principal=1, idle_seconds=60)
    assert [await call(ledger, alice()) for _ in range(2)] == [200, 200]
    assert ledger.open_sessions(ALICE) == 0


async def test_an_opening_request_that_fails_before_answering_leaves_nothing_pending() -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("the SDK broke")

    ledger = SessionLedger(failing, per_principal=1, idle_seconds=60)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="the SDK broke"):
            await call(ledger, alice())
    assert ledger._owners == {}
    ledger.app = ScriptedSdk()
    assert await call(ledger, alice()) == 200  # the failed attempts hold no place in the quota


async def test_a_successful_delete_or_a_404_ends_the_session_other_answers_do_not() -> None:
    for status, method, ended in [
        (200, "DELETE", True), (204, "DELETE", True), (299, "DELETE", True), (300, "DELETE", False),
        (405, "DELETE", False), (404, "GET", True), (404, "POST", True), (200, "POST", False),
        (202, "POST", False), (400, "GET", False),
    ]:  # fmt: skip
        app = ScriptedSdk(status=status)
        ledger = ledger_of(app, per_principal=5)
        session = await open_one(ledger)
        assert await call(ledger, alice(method, session)) == status
        assert ledger.open_sessions(ALICE) == (0 if ended else 1), (status, method)


async def test_a_delete_the_sdk_fails_on_keeps_the_session() -> None:
    app = ScriptedSdk()
    ledger = ledger_of(app, per_principal=5)
    session = await open_one(ledger)

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("the SDK broke")

    ledger.app = failing
    with pytest.raises(RuntimeError, match="the SDK broke"):
        await call(ledger, alice("DELETE", session))
    assert ledger.open_sessions(ALICE) == 1


async def test_an_unknown_session_id_goes_to_the_sdk_uncounted() -> None:
    app = ScriptedSdk(status=404)
    ledger = ledger_of(app, per_principal=1)
    session = await open_one(ledger)
    assert await call(ledger, alice("GET", "not-" + session)) == 404  # the SDK's answer
    bobs = {**request("bob"), "headers": [(b"mcp-session-id", session.encode())]}
    assert await call(ledger, bobs) == 404
    assert ledger.open_sessions(ALICE) == 1  # another principal's 404 does not end alice's session
    assert set(ledger._owners) == {ALICE}
    assert app.calls == 3


async def test_a_session_with_a_request_in_flight_never_expires() -> None:
    app = ScriptedSdk()
    clock = Clock()
    ledger = ledger_of(app, per_principal=5, idle_seconds=60, clock=clock)
    session = await open_one(ledger)
    async with anyio.create_task_group() as group:
        for _ in range(2):
            group.start_soon(sent_messages, ledger, alice("GET", session, path="/hold"))
        await anyio.wait_all_tasks_blocked()
        assert await call(ledger, alice(session=session)) == 200  # a third request ends meanwhile
        clock.now += 3600
        assert ledger.open_sessions(ALICE) == 1
        assert ledger.counts() == SessionCounts(open=1, per_principal_max=1)
        app.release.set()
    clock.now += 59.5  # idle since the last request ended
    assert ledger.open_sessions(ALICE) == 1
    clock.now += 0.5
    assert ledger.open_sessions(ALICE) == 0


async def test_a_request_that_ends_after_its_session_was_deleted_forgets_nothing_newer() -> None:
    app = ScriptedSdk()
    ledger = ledger_of(app, per_principal=1)
    session = await open_one(ledger)
    async with anyio.create_task_group() as group:
        group.start_soon(sent_messages, ledger, alice("GET", session, path="/hold"))
        await anyio.wait_all_tasks_blocked()
        assert await call(ledger, alice("DELETE", session)) == 200
        assert ledger._owners == {}
        await open_one(ledger)  # alice's new session, owned by a new entry
        app.status = 404
        app.release.set()  # the old stream ends now, on a session already gone
    assert ledger.open_sessions(ALICE) == 1
    assert await call(ledger, alice()) == 429  # the quota still sees the new session


async def test_the_ledger_sweeps_every_minute_at_most() -> None:
    clock = Clock(0.0)
    ledger = ledger_of(ScriptedSdk(), per_principal=5, idle_seconds=100, clock=clock)
    await open_one(ledger)  # the first admission sweeps (nothing to forget) at 0
    clock.now = 60.0
    assert await call(ledger, request("bob")) == 200  # sweeps at 60: alice's session is still live
    clock.now = 61.0
    assert await call(ledger, request("carol")) == 200  # no sweep: the last was 1 s ago
    clock.now = 119.5
    assert await call(ledger, request("dave")) == 200  # no sweep (59.5 s) though alice's has expired
    assert ALICE in ledger._owners
    clock.now = 120.0
    assert await call(ledger, request("erin")) == 200  # 60 s since the last sweep: alice is forgotten
    assert set(ledger._owners) == {(name, None, None) for name in ("bob", "carol", "dave", "erin")}


async def test_a_short_idle_timeout_sweeps_as_often_as_it() -> None:
    clock = Clock(0.0)
    ledger = ledger_of(ScriptedSdk(), per_principal=5, idle_seconds=10, clock=clock)
    await open_one(ledger)
    clock.now = 9.5
    await call(ledger, request("bob"))
    assert ALICE in ledger._owners
    clock.now = 10.0
    await call(ledger, request("carol"))
    assert set(ledger._owners) == {("bob", None, None), ("carol", None, None)}


async def test_other_asgi_messages_pass_through_uncounted() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((await receive())["type"])
        await send({"type": "lifespan.startup.complete"})

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        seen.append(message["type"])

    ledger = SessionLedger(app, per_principal=1, idle_seconds=60)
    await ledger({"type": "lifespan"}, receive, send)
    assert seen == ["lifespan.startup", "lifespan.startup.complete"]
    assert ledger._owners == {}


async def test_a_message_before_the_answer_starts_is_passed_on_and_opens_nothing() -> None:
    async def debugging(scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette's template responses send this before the answer when a test client asks
        await send({"type": "http.response.debug", "info": {}})
        await ScriptedSdk()(scope, receive, send)

    ledger = SessionLedger(debugging, per_principal=1, idle_seconds=60)
    sent = await sent_messages(ledger, alice())
    assert [m["type"] for m in sent] == ["http.response.debug", "http.response.start", "http.response.body"]
    assert ledger.open_sessions(ALICE) == 1


_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.sampled_from(["alice", "bob"]), st.just(0)),
        st.tuples(st.just("delete"), st.sampled_from(["alice", "bob"]), st.integers(0, 3)),
        st.tuples(st.just("wait"), st.just(""), st.integers(0, 40)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(_STEPS)
def test_each_principal_holds_at_most_its_quota_as_an_independent_model_counts(
    steps: list[tuple[str, str, int]],
) -> None:
    quota, idle = 2, 30.0
    clock = Clock(0.0)
    ledger = ledger_of(ScriptedSdk(), per_principal=quota, idle_seconds=idle, clock=clock)
    held: dict[str, dict[str, float]] = {"alice": {}, "bob": {}}  # the model: session id -> idle since

    def live(who: str) -> list[str]:
        return [s for s, since in held[who].items() if clock.now - since < idle]

    async def run() -> None:
        for action, who, number in steps:
            if action == "wait":
                clock.now += number
            elif action == "open":
                sent = await sent_messages(ledger, request(who))
                assert sent[0]["status"] == (429 if len(live(who)) >= quota else 200)
                if sent[0]["status"] == 200:
                    held[who][dict(sent[0]["headers"])[b"Mcp-Session-Id"].decode()] = clock.now
            elif live(who):
                session = live(who)[number % len(live(who))]
                scope = {**request(who), "method": "DELETE", "headers": [(b"mcp-session-id", session.encode())]}
                assert (await sent_messages(ledger, scope))[0]["status"] == 200
                del held[who][session]
            for name in held:
                assert ledger.open_sessions((name, None, None)) == len(live(name))

    anyio.run(run)
