"""Server assembly: settings -> MCPServer (+ Starlette app for HTTP). The only place auth is wired in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from pydantic import AnyHttpUrl
from starlette.applications import Starlette

from oscal_mcp import __version__
from oscal_mcp.config import Settings
from oscal_mcp.content import verify_bundled_content
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.families import register_tools
from oscal_mcp_auth import VerificationPipeline, load_verifier
from oscal_mcp_auth.asgi import install_bearer_auth

logger = logging.getLogger("oscal_mcp")

INSTRUCTIONS = (
    "Tools for NIST OSCAL (Open Security Controls Assessment Language): list the models, get their "
    "JSON schemas, validate OSCAL documents, and query component definitions."
)


def build_server(settings: Settings, verifier: VerificationPipeline | None = None) -> MCPServer[Any]:
    """The MCP server with every tool registered; `verifier` is given only when auth is on."""
    auth_settings = _sdk_auth_settings(settings) if verifier is not None else None
    server: MCPServer[Any] = MCPServer(
        name=settings.server_name,
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level=settings.log_level,  # type: ignore[arg-type]
        token_verifier=verifier if auth_settings is not None else None,
        auth=auth_settings,
    )
    register_tools(server, ToolContext(settings))
    return server


def _sdk_auth_settings(settings: Settings) -> AuthSettings | None:
    """The SDK's settings serve the RFC 9728 metadata; they need an issuer to point clients to."""
    auth = settings.auth
    if auth.issuer_url is None or auth.resource_server_url is None:
        return None
    # Strings, not AnyHttpUrl objects: AuthSettings keeps a path-less issuer as written, while a bare
    # AnyHttpUrl would add a trailing slash and break the exact issuer match (RFC 8414 section 3.3).
    return AuthSettings.model_validate(
        {
            "issuer_url": auth.issuer_url,
            "resource_server_url": auth.resource_server_url,
            "required_scopes": list(auth.required_scopes) or None,
            "validate_token_resource": True,
        }
    )


def build_http_app(settings: Settings) -> Starlette:
    """The streamable-http ASGI app, with bearer auth installed when it is configured."""
    verifier = load_verifier(settings.auth) if settings.auth_enabled else None
    server = build_server(settings, verifier)
    app = server.streamable_http_app(
        streamable_http_path=settings.path,
        stateless_http=settings.stateless_http,
        max_request_body_size=settings.max_request_bytes,
        max_sessions=settings.max_sessions,
        session_idle_timeout=settings.session_idle_seconds,
        host=settings.host,
    )
    if verifier is not None:
        _secure(app, settings, verifier)
    return app


def _secure(app: Starlette, settings: Settings, verifier: VerificationPipeline) -> None:
    auth = settings.auth
    metadata_url = None
    if auth.issuer_url is not None and auth.resource_server_url is not None:
        metadata_url = str(build_resource_metadata_url(AnyHttpUrl(auth.resource_server_url)))
    install_bearer_auth(
        app,
        verifier,
        endpoint_path=settings.path,
        required_scopes=auth.required_scopes,
        resource_server_url=auth.resource_server_url,
        resource_metadata_url=metadata_url,
        on_scope_denied=verifier.scope_denied,
    )
    app.router.lifespan_context = _closing(app.router.lifespan_context, verifier)


def _closing(lifespan: Any, verifier: VerificationPipeline) -> Any:
    @asynccontextmanager
    async def lifespan_then_close(app: Starlette) -> AsyncIterator[Any]:
        try:
            async with lifespan(app) as state:
                yield state
        finally:
            await verifier.aclose()

    return lifespan_then_close


def run(settings: Settings) -> None:
    """Run until interrupted. Raises ConfigurationError before serving if anything is misconfigured."""
    verify_bundled_content()  # security content: a tampered file stops start-up (exit status 2)
    _warn_about_settings(settings)
    if settings.transport == "stdio":
        anyio.run(build_server(settings).run_stdio_async)
        return
    import uvicorn

    app = build_http_app(settings)
    logger.info(
        "serving MCP over streamable-http at %s (auth: %s)",
        settings.public_url,
        settings.auth.verifier if settings.auth_enabled else "off",
    )
    # log_config=None: uvicorn logs through the root logger, i.e. to stderr like everything else.
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, log_level=settings.log_level.lower())


def _warn_about_settings(settings: Settings) -> None:
    if settings.transport == "stdio" and settings.auth.configured:
        logger.warning("authentication settings are ignored with the stdio transport (it is local only)")
    if settings.transport == "streamable-http" and not settings.auth_enabled:
        from oscal_mcp.config import is_loopback

        if not is_loopback(settings.host):
            logger.warning(
                "serving on %s WITHOUT authentication (--allow-unauthenticated): anyone who can reach "
                "this address can use the server",
                settings.host,
            )
