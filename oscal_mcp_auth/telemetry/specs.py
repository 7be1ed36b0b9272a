"""The telemetry hookspecs (pluggy, project ``oscal_mcp_auth``). None returns anything that
changes a decision; an implementation that raises is logged and ignored. All must be plain,
non-blocking functions: they run on the request path. Arguments are low-cardinality words,
configured names or numbers, never a token, subject or session id."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("oscal_mcp_auth")  # the project of `oscal_mcp_auth.hooks`


class TelemetryHookSpecs:
    @hookspec
    def oscal_auth_request(self, outcome: str, reason: str) -> None:
        """Called by `BearerAuth` once per request to the protected endpoint, after its decision:
        `outcome` ``accept`` (reason ``ok``) or ``reject`` with the reason word its log line
        names (``no_credentials``, ``expired``, ``insufficient_scope``, ``dpop_replay``...)."""

    @hookspec
    def oscal_auth_verified(self, verifier: str, outcome: str, reason: str, seconds: float) -> None:
        """Called by the pipeline after each token verification (backend, claim rules, veto
        hooks): the verifier's name, ``accept``/``reject``, the reason word and the seconds it took."""

    @hookspec
    def oscal_auth_fetched(self, kind: str, issuer: str, outcome: str, seconds: float) -> None:
        """Called after each call to an Authorization Server: `kind` ``jwks``, ``discovery`` or
        ``introspection``; the configured issuer; `outcome` ``ok`` or the failure's reason word."""

    @hookspec
    def oscal_auth_stale_keys(self, issuer: str) -> None:
        """Called each time a JWKS refresh fails and the last good key set of `issuer` keeps serving."""

    @hookspec
    def oscal_auth_cache_lookup(self, layer: str, hit: bool) -> None:
        """Called on each result-cache lookup: `layer` ``local`` (process memory) or ``shared``
        (Redis), and whether it found an entry."""

    @hookspec
    def oscal_auth_store_error(self, store: str) -> None:
        """Called when an operation on the shared store fails (`store` ``redis``): timeout,
        refused connection, error answer."""

    @hookspec
    def oscal_auth_dpop_refused(self, reason: str) -> None:
        """Called for each request refused for its DPoP proof, with the reason word
        (``dpop_replay`` for a replayed proof, ``replay_cache_unavailable`` when Redis is down)."""

    @hookspec(firstresult=True)
    def oscal_auth_span(self, name: str, attributes: dict[str, Any]) -> AbstractContextManager[Any] | None:
        """Called around a unit of work (``oscal_auth.verify``, ``oscal_auth.fetch jwks``...):
        return a context manager (a trace span) entered for its duration, whose value has
        ``set_attribute(name, value)``; the first implementation to return one wins
        (``firstresult``). `attributes` are words and configured names, never a token."""
