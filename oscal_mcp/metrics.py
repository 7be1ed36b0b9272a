"""Prometheus metrics of the server (extra ``metrics``): served on their own bind, off by default.

``OSCAL_MCP_METRICS_PORT`` turns them on; ``OSCAL_MCP_METRICS_HOST`` (default 127.0.0.1) is the
address of that listener, apart from the MCP port so that it is never exposed with it. The
registry holds the auth library's metrics (its built-in hook plugin, `oscal_mcp_auth.telemetry.
metrics`), the tool calls (an SDK middleware), the sessions (read from the server's session ledger,
`oscal_mcp.sessions`, when scraped), the process (CPU, memory, descriptors) and the build.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable, Iterator
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from oscal_mcp import __version__
from oscal_mcp.audit import tool_failed
from oscal_mcp.sessions import SessionCounts, SessionLedger
from oscal_mcp_auth.telemetry.metrics import LATENCY_BUCKETS

logger = logging.getLogger("oscal_mcp")


def new_registry() -> CollectorRegistry:
    """A registry with the process metrics and ``oscal_mcp_build_info``."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    info = Gauge("oscal_mcp_build_info", "The running build (always 1)", ["version", "python"], registry=registry)
    info.labels(__version__, platform.python_version()).set(1)
    return registry


class ToolMetrics:
    """SDK middleware: ``oscal_mcp_tool_calls_total{tool,outcome}`` and
    ``oscal_mcp_tool_call_seconds{tool}``; a name that is no registered tool counts as ``unknown``."""

    def __init__(self, registry: CollectorRegistry, server: MCPServer[Any]) -> None:
        self._server = server
        self._names: frozenset[str] | None = None  # read at the first call, once every tool is registered
        self._calls = Counter(
            "oscal_mcp_tool_calls", "Tool calls by tool and outcome (ok, error)", ["tool", "outcome"], registry=registry
        )
        self._seconds = Histogram(
            "oscal_mcp_tool_call_seconds", "Tool call duration", ["tool"], buckets=LATENCY_BUCKETS, registry=registry
        )

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        if self._names is None:
            self._names = frozenset(tool.name for tool in await self._server.list_tools())
        name = ctx.params.get("name") if ctx.params else None
        tool = name if isinstance(name, str) and name in self._names else "unknown"
        started, outcome = time.perf_counter(), "error"
        try:
            result = await call_next(ctx)
            outcome = "error" if tool_failed(result) else "ok"
            return result
        finally:
            self._calls.labels(tool, outcome).inc()
            self._seconds.labels(tool).observe(time.perf_counter() - started)


class SessionMetrics(Collector):
    """``oscal_mcp_sessions_open`` and ``oscal_mcp_sessions_per_principal_max``, read from the
    session ledger when scraped (no code on the request path); a stateless server keeps no
    session (no ledger: both 0). The largest count per principal (client id, issuer, subject) is
    a number: no principal is named."""

    def __init__(self, ledger: SessionLedger | None) -> None:
        self._ledger = ledger

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self._ledger.counts() if self._ledger is not None else SessionCounts(open=0, per_principal_max=0)
        yield GaugeMetricFamily("oscal_mcp_sessions_open", "Stateful MCP sessions open", value=counts.open)
        yield GaugeMetricFamily(
            "oscal_mcp_sessions_per_principal_max",
            "The most sessions one authenticated principal (client, issuer, subject) holds",
            value=counts.per_principal_max,
        )


def instrument_server(server: MCPServer[Any], registry: CollectorRegistry, ledger: SessionLedger | None) -> None:
    """Tool calls of `server` and the sessions `ledger` counts (None: stateless) into `registry`."""
    server.middleware.append(ToolMetrics(registry, server))
    registry.register(SessionMetrics(ledger))


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> Callable[[], None]:
    """Serve the registry at ``http://host:port/metrics`` (a thread); returns the function that stops it."""
    server, thread = start_http_server(port, addr=host, registry=registry)
    logger.info("serving Prometheus metrics at http://%s:%d/metrics", host, port)

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)

    return stop
