"""`about`: what this server is, which OSCAL version it speaks, and who is calling."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.models import oscal_version


class AuthInfo(BaseModel):
    enabled: bool
    verifier: str | None = None
    issuer_url: str | None = None
    resource_server_url: str | None = None
    required_scopes: list[str] = []


class CallerInfo(BaseModel):
    client_id: str
    subject: str | None = None
    scopes: list[str]


class AboutResult(BaseModel):
    server_name: str
    server_version: str
    oscal_version: str
    oscal_library: str
    transport: str
    auth: AuthInfo
    caller: CallerInfo | None = None


def describe(context: ToolContext) -> AboutResult:
    settings = context.settings
    auth = AuthInfo(enabled=settings.auth_enabled)
    if settings.auth_enabled:
        auth = AuthInfo(
            enabled=True,
            verifier=settings.auth.verifier,
            issuer_url=settings.auth.issuer_url,
            resource_server_url=settings.auth.resource_server_url,
            required_scopes=list(settings.auth.required_scopes),
        )
    return AboutResult(
        server_name=settings.server_name,
        server_version=version("oscal-mcp"),
        oscal_version=oscal_version(),
        oscal_library=f"compliance-trestle {version('compliance-trestle')}",
        transport=settings.transport,
        auth=auth,
        caller=_caller(),
    )


def _caller() -> CallerInfo | None:
    token = get_access_token()
    if token is None:
        return None
    return CallerInfo(client_id=token.client_id, subject=token.subject, scopes=list(token.scopes))


def register(server: MCPServer[Any], context: ToolContext) -> None:
    def about() -> AboutResult:
        """Describe this OSCAL MCP server: its version, the OSCAL version its models follow, the
        transport in use, whether authentication is on (and which verifier), and the calling
        client's id and scopes when the request is authenticated. Never returns secrets."""
        return describe(context)

    server.add_tool(about, name="about", title="About this server")
