"""Tracing is on only with an OTLP endpoint in the standard variables, and off it costs nothing:
no request middleware, no tracing plugin, spans that are no-ops."""

from __future__ import annotations

from pathlib import Path

import pytest

from oscal_mcp.config import load_settings
from oscal_mcp.http_app import build_http_app
from oscal_mcp.tracing import TraceRequests, tracing_wanted
from oscal_mcp_auth.telemetry.relay import NO_SPAN
from oscal_mcp_auth.verifier import load_verifier
from tests.server.http_helpers import auth_values


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_SERVICE_NAME": "x"}, False),
    ],
)
def test_tracing_is_wanted_only_with_an_otlp_endpoint(environ: dict[str, str], wanted: bool) -> None:
    assert tracing_wanted(environ) is wanted


def test_without_tracing_no_middleware_and_verification_spans_are_no_ops(tmp_path: Path) -> None:
    settings = load_settings({"OSCAL_MCP_TRANSPORT": "streamable-http", **auth_values(tmp_path)})
    app = build_http_app(settings)
    assert TraceRequests not in {middleware.cls for middleware in app.user_middleware}
    verifier = load_verifier(settings.auth)
    with verifier.telemetry.span("oscal_auth.verify", verifier="static") as span:
        assert span is NO_SPAN
