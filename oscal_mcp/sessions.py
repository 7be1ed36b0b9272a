"""The session ledger: every stateful session, by owner, in front of the SDK's session manager.

The SDK's manager bounds the sessions of everyone together (``max_sessions``) and binds each
session to the principal that opened it (its ``authorization_context``: client id, issuer,
subject). Without a quota of its own, one principal can open them all and keep them alive, and
every other principal gets 503 until they expire. `SessionLedger` counts each owner's sessions,
answers an authenticated principal at its quota with 429 and leaves everyone else alone; requests
no token authenticated (a server without auth) are counted under one anonymous owner with no quota
of its own. `SessionLedger.counts` is what the session metrics read (`oscal_mcp.metrics`).

It watches, without changing, what passes through: a session is counted from the answer that
hands out its ``Mcp-Session-Id`` until its owner ends it (``DELETE``), the manager answers 404 for
it, or it has been idle (no request of its owner in flight) for the manager's idle timeout, the
same rule the SDK's transport applies (measured after the SDK's own end of each request, so a
session is never forgotten here before the SDK has dropped it).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import principal_components
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oscal_mcp_auth.logsafe import shown

logger = logging.getLogger("oscal_mcp")

Principal = tuple[str, str | None, str | None]
Owner = Principal | None  # None: the anonymous owner, every request no token authenticated
ANONYMOUS: Final = None
_SESSION_HEADER = b"mcp-session-id"
_SWEEP_SECONDS = 60.0
_INVALID_REQUEST = -32600  # JSON-RPC, as the SDK's own 503 "Too many open sessions"


@dataclass
class _Session:
    in_flight: int = 1  # counted from the answer to the request that opened it, still in flight
    idle_since: float = math.inf

    def expired(self, now: float, idle_seconds: float) -> bool:
        return self.in_flight == 0 and now - self.idle_since >= idle_seconds


@dataclass
class _Owned:
    sessions: dict[str, _Session] = field(default_factory=dict)
    opening: int = 0  # requests admitted to open a session whose answer has not started yet


@dataclass(frozen=True)
class SessionCounts:
    """Live sessions (expired ones not counted) at one moment."""

    open: int  # every owner's, the anonymous one's included
    per_principal_max: int  # the most one authenticated principal holds; 0 when none does


class SessionLedger:
    """Counts the sessions of `app` (the SDK's streamable-http app, stateful) by owner, and lets
    each authenticated principal hold at most `per_principal`; the anonymous owner has no quota
    (the SDK's global ``max_sessions`` still bounds its sessions)."""

    def __init__(
        self, app: ASGIApp, *, per_principal: int, idle_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.clock = clock
        self.per_principal = per_principal
        self.idle_seconds = idle_seconds
        self._owners: dict[Owner, _Owned] = {}
        self._last_sweep = -math.inf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        owner = _principal(scope)
        headers = Headers(scope=scope)
        session_id = headers.get("mcp-session-id")
        version = headers.get("mcp-protocol-version")  # none: the handshake's (the SDK's own default)
        if session_id is not None:
            await self._use(owner, session_id, scope, receive, send)
        elif version is None or version in HANDSHAKE_PROTOCOL_VERSIONS:
            await self._open(owner, scope, receive, send)
        else:  # a later protocol's request opens no session (the SDK serves it statelessly)
            await self.app(scope, receive, send)

    def open_sessions(self, owner: Owner) -> int:
        """How many sessions `owner` holds now (those past their idle timeout are dropped)."""
        owned = self._owners.get(owner)
        if owned is None:
            return 0
        self._forget_idle(owned, self.clock())
        return len(owned.sessions)

    def counts(self) -> SessionCounts:
        """The live sessions in total and the most one authenticated principal holds. Safe from
        any thread (a metrics scrape): it reads copies and changes nothing."""
        now = self.clock()
        total, most = 0, 0
        for owner, owned in self._owners.copy().items():  # dict.copy: atomic under the GIL
            live = sum(not s.expired(now, self.idle_seconds) for s in owned.sessions.copy().values())
            total += live
            if owner is not ANONYMOUS:
                most = max(most, live)
        return SessionCounts(open=total, per_principal_max=most)

    async def _open(self, owner: Owner, scope: Scope, receive: Receive, send: Send) -> None:
        self._sweep()
        owned = self._owners.setdefault(owner, _Owned())
        held = self.open_sessions(owner) + owned.opening
        if owner is not ANONYMOUS and held >= self.per_principal:
            logger.warning(
                "refusing a new session: client_id=%s holds %d (OSCAL_MCP_MAX_SESSIONS_PER_PRINCIPAL=%d)",
                shown(owner[0]),
                held,
                self.per_principal,
            )
            await self._refuse(owned, send)
            return
        owned.opening += 1
        started: list[_Session | None] = []  # once the answer starts: the session it opened, if any

        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start" and not started:
                owned.opening -= 1
                session_id = _session_id(message) if message["status"] < 400 else None
                session = None
                if session_id:
                    session = owned.sessions[session_id] = _Session()
                started.append(session)
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            if not started:
                owned.opening -= 1
            elif started[0] is not None:
                self._finished(started[0])
            self._drop_if_empty(owner, owned)

    async def _use(self, owner: Owner, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        owned = self._owners.get(owner)
        session = owned.sessions.get(session_id) if owned is not None else None
        if owned is None or session is None:  # another principal's, unknown or expired: the SDK answers
            await self.app(scope, receive, send)
            return
        session.in_flight += 1
        status = 0

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            self._finished(session)
            if status == 404 or (scope["method"] == "DELETE" and 200 <= status < 300):
                owned.sessions.pop(session_id, None)  # gone (a concurrent request may have seen it go first)
            self._drop_if_empty(owner, owned)

    def _finished(self, session: _Session) -> None:
        """A request of `session` ended: idle from now on when it was the last one in flight."""
        session.in_flight -= 1
        if session.in_flight == 0:
            session.idle_since = self.clock()

    def _forget_idle(self, owned: _Owned, now: float) -> None:
        for session_id, session in list(owned.sessions.items()):
            if session.expired(now, self.idle_seconds):
                del owned.sessions[session_id]

    def _sweep(self) -> None:
        """Forget expired sessions of every owner now and then, so principals who never come
        back do not keep memory."""
        now = self.clock()
        if now - self._last_sweep < min(_SWEEP_SECONDS, self.idle_seconds):
            return
        self._last_sweep = now
        for owner, owned in list(self._owners.items()):
            self._forget_idle(owned, now)
            self._drop_if_empty(owner, owned)

    def _drop_if_empty(self, owner: Owner, owned: _Owned) -> None:
        if not owned.sessions and not owned.opening and self._owners.get(owner) is owned:
            del self._owners[owner]

    async def _refuse(self, owned: _Owned, send: Send) -> None:
        now = self.clock()
        idle = [self.idle_seconds - (now - s.idle_since) for s in owned.sessions.values() if s.in_flight == 0]
        retry_after = max(1, math.ceil(min(idle, default=self.idle_seconds)))
        message = (
            f"Too many open sessions for this client: at most {self.per_principal} at once (the per-client "
            "session quota); end one with DELETE or let one expire"
        )
        body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": _INVALID_REQUEST, "message": message}})
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", str(retry_after).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


def _principal(scope: Scope) -> Owner:
    user = scope.get("user")
    return principal_components(user.access_token) if isinstance(user, AuthenticatedUser) else None


def _session_id(message: Message) -> str | None:
    for name, value in message.get("headers", []):
        if name.lower() == _SESSION_HEADER:
            return bytes(value).decode("latin-1")
    return None
