"""The built-in tracing plugin makes each unit of work an OpenTelemetry span: calls to the
Authorization Server as client spans, the rest internal, with only the attributes that say
something (recorded here in memory; tests/e2e/test_traces.py exports them over OTLP)."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from oscal_mcp_auth.telemetry.tracing import AuthTracing

ISSUER = "https://as.example.com"


def recording() -> tuple[AuthTracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return AuthTracing(provider.get_tracer("test")), exporter


def test_calls_to_the_authorization_server_are_client_spans_with_their_named_attributes() -> None:
    tracing, exporter = recording()
    with tracing.oscal_auth_span(name="oscal_auth.jwks", attributes={"issuer": ISSUER, "reason": "", "kid": None}):
        pass
    with tracing.oscal_auth_span(name="oscal_auth.verify", attributes={"verifier": "jwt"}) as span:
        span.set_attribute("oscal_auth.outcome", "accept")
    fetch, verify = exporter.get_finished_spans()
    assert (fetch.name, fetch.kind, dict(fetch.attributes or {})) == (
        "oscal_auth.jwks",
        SpanKind.CLIENT,
        {"oscal_auth.issuer": ISSUER},
    )
    assert (verify.name, verify.kind, dict(verify.attributes or {})) == (
        "oscal_auth.verify",
        SpanKind.INTERNAL,
        {"oscal_auth.verifier": "jwt", "oscal_auth.outcome": "accept"},
    )
