"""`Telemetry`: how library code calls the telemetry hooks, cheaply and safely.

Components that report (JWKS caches, discovery, Redis stores...) are built by backend factories
that receive only the settings, so the hooks reach them through a context variable set while
`load_verifier` builds the backend (`installed`) and read once at construction
(`current_telemetry`). Each call returns at once when no plugin implements the hook, and an
implementation that raises is logged and ignored: telemetry never changes a decision.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

import pluggy

logger = logging.getLogger("oscal_mcp_auth")

HOOK_NAMES = (
    "oscal_auth_request",
    "oscal_auth_verified",
    "oscal_auth_fetched",
    "oscal_auth_stale_keys",
    "oscal_auth_cache_lookup",
    "oscal_auth_store_error",
    "oscal_auth_dpop_refused",
    "oscal_auth_span",
)
_CURRENT: ContextVar[Telemetry | None] = ContextVar("oscal_mcp_auth_telemetry", default=None)
# the reason word of the latest refusal in this request's task, for `oscal_auth_request`
_REJECTION: ContextVar[str | None] = ContextVar("oscal_mcp_auth_rejection", default=None)


class _NoSpan:
    def set_attribute(self, name: str, value: Any) -> None:
        return None


NO_SPAN = _NoSpan()


class FetchOutcome:
    """What a fetch from the AS came to: ``ok`` unless the fetching code says otherwise."""

    def __init__(self) -> None:
        self.word = "ok"


class Telemetry:
    """The telemetry hooks of one plugin manager (or none: every call does nothing).

    Which hooks have implementations is read once, here: register telemetry plugins before the
    verifier is built (`load_verifier` does), so that a call nobody listens to costs a set lookup.
    """

    def __init__(self, hook: pluggy.HookRelay | None) -> None:
        self._hook = hook
        self._listening = frozenset(
            name for name in HOOK_NAMES if hook is not None and getattr(hook, name).get_hookimpls()
        )

    @property
    def active(self) -> bool:
        """Whether any telemetry hook has an implementation."""
        return bool(self._listening)

    def _call(self, name: str, **kwargs: Any) -> None:
        if name not in self._listening:
            return
        try:
            getattr(self._hook, name)(**kwargs)
        except Exception as exc:
            logger.warning("hook %s raised %s; ignored", name, type(exc).__name__)

    def listens(self, name: str) -> bool:
        return name in self._listening

    def request(self, outcome: str, reason: str) -> None:
        self._call("oscal_auth_request", outcome=outcome, reason=reason)

    def verified(self, verifier: str, outcome: str, reason: str, seconds: float) -> None:
        self._call("oscal_auth_verified", verifier=verifier, outcome=outcome, reason=reason, seconds=seconds)

    def fetched(self, kind: str, issuer: str, outcome: str, seconds: float) -> None:
        self._call("oscal_auth_fetched", kind=kind, issuer=issuer, outcome=outcome, seconds=seconds)

    @contextmanager
    def fetching(self, kind: str, issuer: str) -> Iterator[FetchOutcome]:
        """A fetch from the AS, timed in a span ``oscal_auth.<kind>`` and reported to
        `oscal_auth_fetched` with the outcome the block sets, however the block ends."""
        started, outcome = time.perf_counter(), FetchOutcome()
        with self.span(f"oscal_auth.{kind}", issuer=issuer) as span:
            try:
                yield outcome
            finally:
                span.set_attribute("oscal_auth.outcome", outcome.word)
                self.fetched(kind, issuer, outcome.word, time.perf_counter() - started)

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
        hook = self._hook
        if hook is None or "oscal_auth_span" not in self._listening:
            return nullcontext(NO_SPAN)
        try:
            span = hook.oscal_auth_span(name=name, attributes=attributes)
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


def noted_rejection() -> str | None:
    """The reason noted since the last `take_rejection` in this task, kept for it."""
    return _REJECTION.get()


def take_rejection() -> str | None:
    """The reason noted since the last call in this task, and forget it."""
    reason = _REJECTION.get()
    if reason is not None:
        _REJECTION.set(None)
    return reason
