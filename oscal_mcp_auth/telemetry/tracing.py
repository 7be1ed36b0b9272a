"""The built-in tracing plugin: the library's units of work as OpenTelemetry spans (extra ``otel``).

It implements `oscal_auth_span`: a span around each verification (``oscal_auth.verify``:
verifier, outcome, reason, issuer) and each call to the Authorization Server
(``oscal_auth.jwks``, ``oscal_auth.discovery``, ``oscal_auth.introspection``), each the child of
whatever span is current, so a verification that fetches keys holds the fetch. No attribute ever
holds a token: the library passes words and configured names only.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from opentelemetry.trace import SpanKind, Tracer

from oscal_mcp_auth.hooks import hookimpl

_CLIENT_SPANS = frozenset({"oscal_auth.jwks", "oscal_auth.discovery", "oscal_auth.introspection"})


class AuthTracing:
    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    @hookimpl
    def oscal_auth_span(self, name: str, attributes: dict[str, Any]) -> AbstractContextManager[Any]:
        kind = SpanKind.CLIENT if name in _CLIENT_SPANS else SpanKind.INTERNAL
        named = {f"oscal_auth.{key}": value for key, value in attributes.items() if value not in (None, "")}
        return self._tracer.start_as_current_span(name, kind=kind, attributes=named)
