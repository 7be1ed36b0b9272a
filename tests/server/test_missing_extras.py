"""Metrics or traces asked for without their extra: start-up stops with one line naming the extra."""

from __future__ import annotations

import sys

import pytest

from oscal_mcp.config import ConfigError, load_settings
from oscal_mcp.http_app import metrics_registry
from oscal_mcp.tracing import start_tracing


def test_a_metrics_port_without_prometheus_client_names_the_metrics_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "oscal_mcp.metrics", raising=False)
    monkeypatch.delitem(sys.modules, "oscal_mcp_auth.telemetry.metrics", raising=False)
    settings = load_settings({"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_MCP_METRICS_PORT": "9464"})
    with pytest.raises(ConfigError, match=r"pip install 'oscal-mcp\[metrics\]'"):
        metrics_registry(settings)


def test_an_otlp_endpoint_without_the_sdk_names_the_otel_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    with pytest.raises(ConfigError, match=r"pip install 'oscal-mcp\[otel\]'"):
        start_tracing("oscal-mcp", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})


def test_metrics_are_off_by_default() -> None:
    assert metrics_registry(load_settings({"OSCAL_MCP_TRANSPORT": "streamable-http"})) is None
