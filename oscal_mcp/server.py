"""Server assembly: settings -> MCPServer with every tool; it knows nothing about HTTP or authentication.

`oscal_mcp.launch` runs it over stdio, or hands it to `oscal_mcp.http_app` (our own Starlette app,
the only place auth is wired in), which only the streamable-http transport imports: a stdio process
never loads the auth library's runtime (verifiers, JOSE, crypto, pluggy), metrics, tracing or uvicorn.

The background warm-up (`oscal_mcp.oscal.warmup`) starts after start-up, never during it: over stdio
once the client's first request after the handshake (`tools/list`) has been answered, over
HTTP once the server is listening.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer

from oscal_mcp import __version__
from oscal_mcp.config import Settings
from oscal_mcp.tools.compact import compact_tool_text
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.families import register_tools, start_after_handshake

if TYPE_CHECKING:
    from oscal_mcp.oscal.warmup import WarmUp

INSTRUCTIONS = (
    "Tools for NIST OSCAL (Open Security Controls Assessment Language): list the models and serve "
    "NIST's published schemas; validate OSCAL documents against NIST's schema and trestle's models; "
    "query catalogs (NIST SP 800-53 rev5 is bundled), profiles and their resolution (the LOW, "
    "MODERATE, HIGH and PRIVACY baselines are bundled), system security plans, assessment plans and "
    "results, POA&M items, mapping collections and component definitions; and search all of them."
)


def build_server(settings: Settings) -> MCPServer[Any]:
    """The MCP server with every tool registered; it knows nothing about HTTP or authentication."""
    return server_and_warm_up(settings)[0]


def server_and_warm_up(settings: Settings) -> tuple[MCPServer[Any], WarmUp]:
    """The server of `build_server` and its (not yet started) warm-up; over stdio it starts itself
    after the client's first request, over HTTP the app's lifespan starts it."""
    server: MCPServer[Any] = MCPServer(
        name=settings.server_name,
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level=settings.log_level,  # type: ignore[arg-type]
    )
    warm_up = register_tools(server, ToolContext.from_settings(settings))
    server.middleware.append(compact_tool_text)
    if settings.transport == "stdio":  # over HTTP the lifespan starts it (no per-request middleware)
        server.middleware.append(start_after_handshake(warm_up, server))
    return server, warm_up
