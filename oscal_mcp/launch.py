"""Running the server: check the bundled content, warn about settings that do not apply, then
serve stdio here or streamable-http through `oscal_mcp.http_app` (imported only for that transport)."""

from __future__ import annotations

import logging

import anyio

from oscal_mcp.config import Settings, is_loopback
from oscal_mcp.content import verify_bundled_content
from oscal_mcp.server import build_server

logger = logging.getLogger("oscal_mcp")


def run(settings: Settings) -> None:
    """Run until interrupted. Raises ConfigurationError before serving if anything is misconfigured."""
    verify_bundled_content()  # security content: a tampered file stops start-up (exit status 2)
    _warn_about_settings(settings)
    if settings.transport == "stdio":
        anyio.run(build_server(settings).run_stdio_async)
        return
    from oscal_mcp.http_app import serve

    serve(settings)


def _warn_about_settings(settings: Settings) -> None:
    if settings.transport == "stdio" and settings.auth.configured:
        logger.warning("authentication settings are ignored with the stdio transport (it is local only)")
    if settings.transport == "stdio" and settings.metrics_port is not None:
        logger.warning("OSCAL_MCP_METRICS_PORT is ignored with the stdio transport (metrics serve streamable-http)")
    if settings.transport != "streamable-http" or settings.auth_enabled:
        return
    if not is_loopback(settings.host):
        logger.warning(
            "serving on %s WITHOUT authentication (--allow-unauthenticated): anyone who can reach "
            "this address can use the server",
            settings.host,
        )
    if "*" in settings.cors_origins:
        logger.warning(
            "OSCAL_MCP_CORS_ORIGINS=* WITHOUT authentication: any web page a user opens can call this "
            "server's tools from their browser; list the origins you trust instead"
        )
