"""`about`: what this server is, which OSCAL versions it speaks, and who is calling."""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

from oscal_mcp.oscal.models import trestle_oscal_version
from oscal_mcp.oscal.schemas import bundled_versions, newest_version
from oscal_mcp.tools.context import ServerFacts, ToolContext


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
    oscal_schema_versions: list[str]
    oscal_library: str
    transport: str
    auth: AuthInfo
    caller: CallerInfo | None = None


@cache
def process_facts() -> tuple[str, str, str]:
    """Package versions and OSCAL releases: constant for the process's life, so read once."""
    library = f"compliance-trestle {version('compliance-trestle')} (models follow OSCAL {trestle_oscal_version()})"
    return version("oscal-mcp"), newest_version(), library


def describe(facts: ServerFacts) -> AboutResult:
    server_version, oscal_version, library = process_facts()
    auth = AuthInfo(enabled=False)
    if facts.auth is not None:
        auth = AuthInfo(
            enabled=True,
            verifier=facts.auth.verifier,
            issuer_url=facts.auth.issuer_url,
            resource_server_url=facts.auth.resource_server_url,
            required_scopes=list(facts.auth.required_scopes),
        )
    return AboutResult(
        server_name=facts.name,
        server_version=server_version,
        oscal_version=oscal_version,
        oscal_schema_versions=list(bundled_versions()),
        oscal_library=library,
        transport=facts.transport,
        auth=auth,
        caller=_caller(),
    )


def _caller() -> CallerInfo | None:
    token = get_access_token()
    if token is None:
        return None
    return CallerInfo(client_id=token.client_id, subject=token.subject, scopes=list(token.scopes))


def register(server: MCPServer[Any], context: ToolContext) -> None:
    facts = context.server

    def about() -> AboutResult:
        """Describe this OSCAL MCP server: its version, the OSCAL releases whose NIST schemas it
        bundles, the transport in use, whether authentication is on (and which verifier), and the
        calling client's id and scopes when the request is authenticated. Never returns secrets."""
        return describe(facts)

    server.add_tool(about, name="about", title="About this server")
