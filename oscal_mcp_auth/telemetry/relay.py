"""`Telemetry`: how library code calls the telemetry hooks, cheaply and safely.

Components that report (JWKS caches, discovery, Redis stores...) are built by backend factories
that receive only the settings, so the hooks reach them through a context variable set while
`load_verifier` builds the backend (`installed`) and read once at construction
(`current_telemetry`). Each call returns at once when no plugin implements the hook, and an
implementation that raises is logged and ignored: telemetry never changes a decision.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

import pluggy

logger = logging.getLogger("oscal_mcp_auth")

_CURRENT: ContextVar[Telemetry | None] = ContextVar("oscal_mcp_auth_telemetry", default=None)
# the reason word of the latest refusal in this request's task, for `oscal_auth_request`
_REJECTION: ContextVar[str | None] = ContextVar("oscal_mcp_auth_rejection", default=None)


class _NoSpan:
    def set_attribute(self, name: str, value: Any) -> None:
        return None


NO_SPAN = _NoSpan()


class Telemetry:
    """The telemetry hooks of one plugin manager (or none: every call does nothing)."""

    def __init__(self, hook: pluggy.HookRelay | None) -> None:
        self._hook = hook

    def _call(self, name: str, **kwargs: Any) -> None:
        if self._hook is None:
            return
        caller = getattr(self._hook, name)
        if not caller.get_hookimpls():
            return
        try:
            caller(**kwargs)
        except Exception as exc:
            logger.warning("hook %s raised %s; ignored", name, type(exc).__name__)

    def listens(self, name: str) -> bool:
        return self._hook is not None and bool(getattr(self._hook, name).get_hookimpls())

    def request(self, outcome: str, reason: str) -> None:
        self._call("oscal_auth_request", outcome=outcome, reason=reason)

    def verified(self, verifier: str, outcome: str, reason: str, seconds: float) -> None:
        self._call("oscal_auth_verified", verifier=verifier, outcome=outcome, reason=reason, seconds=seconds)

    def fetched(self, kind: str, issuer: str, outcome: str, seconds: float) -> None:
        self._call("oscal_auth_fetched", kind=kind, issuer=issuer, outcome=outcome, seconds=seconds)

    def stale_keys(self, issuer: str) -> None:
        self._call("oscal_auth_stale_keys", issuer=issuer)

    def cache_lookup(self, layer: str, hit: bool) -> None:
        self._call("oscal_auth_cache_lookup", layer=layer, hit=hit)

    def store_error(self, store: str) -> None:
        self._call("oscal_auth_store_error", store=store)

    def dpop_refused(self, reason: str) -> None:
        self._call("oscal_auth_dpop_refused", reason=reason)

    def span(self, name: str, **attributes: Any) -> AbstractContextManager[Any]:
        """A trace span from the plugin that offers one, else a context manager doing nothing."""
        if self._hook is None or not self._hook.oscal_auth_span.get_hookimpls():
            return nullcontext(NO_SPAN)
        try:
            span = self._hook.oscal_auth_span(name=name, attributes=attributes)
        except Exception as exc:
            logger.warning("hook oscal_auth_span raised %s; ignored", type(exc).__name__)
            span = None
        return span if span is not None else nullcontext(NO_SPAN)


NO_TELEMETRY = Telemetry(None)


def current_telemetry() -> Telemetry:
    """The telemetry of the verifier being built (see `installed`), else `NO_TELEMETRY`."""
    return _CURRENT.get() or NO_TELEMETRY


@contextmanager
def installed(telemetry: Telemetry) -> Iterator[None]:
    """Make `telemetry` what components built inside the block report to."""
    token = _CURRENT.set(telemetry)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def note_rejection(reason: str) -> None:
    """Remember the reason word of a refusal for this request (read by `BearerAuth`)."""
    _REJECTION.set(reason)


def take_rejection() -> str | None:
    """The reason noted since the last call in this task, and forget it."""
    reason = _REJECTION.get()
    if reason is not None:
        _REJECTION.set(None)
    return reason
