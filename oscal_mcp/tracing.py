"""OpenTelemetry traces (extra ``otel``), configured by the standard ``OTEL_*`` variables.

On when an OTLP endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) and neither ``OTEL_SDK_DISABLED=true`` nor
``OTEL_TRACES_EXPORTER=none`` says otherwise; the SDK reads the rest itself (headers, timeout,
sampler, ``OTEL_SERVICE_NAME``, resource attributes). Spans are exported over OTLP/HTTP
(protobuf) in batches. Off, nothing of this is imported and the request path calls no tracer.

What is traced, continuing the caller's ``traceparent``: each token verification and each call to
the Authorization Server (the auth library's built-in tracing plugin), and each MCP message (the
MCP SDK's own middleware, which needs only a tracer provider).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from oscal_mcp import __version__
from oscal_mcp.errors import ConfigError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

logger = logging.getLogger("oscal_mcp")

_CONTEXT_HEADERS = (b"traceparent", b"tracestate")
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_wanted(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def start_tracing(default_service_name: str, environ: Mapping[str, str]) -> TracerProvider:
    """The global tracer provider exporting over OTLP/HTTP; a clear error without the extra."""
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"OTEL_EXPORTER_OTLP_ENDPOINT is set but the Python package {exc.name!r} is not installed; "
            "install it with: pip install 'oscal-mcp[otel]' (or unset the OTEL_EXPORTER_OTLP_* variables)"
        ) from None
    # attributes given here win over OTEL_RESOURCE_ATTRIBUTES: the service name only by default
    named = environ.get("OTEL_SERVICE_NAME") or "service.name=" in environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    defaults = (
        {SERVICE_VERSION: __version__} if named else {SERVICE_NAME: default_service_name, SERVICE_VERSION: __version__}
    )
    resource = Resource.create(defaults)
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    logger.info("exporting OpenTelemetry traces over OTLP/HTTP")
    return provider


class TraceRequests:
    """ASGI middleware: the caller's ``traceparent`` / ``tracestate`` (W3C Trace Context) made the
    current context for the request, so the verification span and the MCP SDK's message span
    continue the caller's trace. It makes no span of its own (an HTTP server span per request
    cost more than the rest of tracing together; an ASGI instrumentation can add one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {}
        for name, value in scope.get("headers", ()):
            if name in _CONTEXT_HEADERS:
                carrier[name.decode()] = value.decode("latin-1")
        if not carrier:
            await self.app(scope, receive, send)
            return
        from opentelemetry import context
        from opentelemetry.propagate import extract

        token = context.attach(extract(carrier))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)
