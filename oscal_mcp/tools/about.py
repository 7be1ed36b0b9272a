"""`about`: what this server is, which OSCAL versions it speaks, and who is calling."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

from oscal_mcp.oscal.lazy import Once
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


@dataclass(frozen=True)
class ProcessFacts:
    server_version: str
    oscal_version: str
    oscal_schema_versions: tuple[str, ...]
    oscal_library: str


def process_facts() -> ProcessFacts:
    """Package versions and OSCAL releases: constant for the process's life, read from disk once (`FACTS`)."""
    library = f"compliance-trestle {version('compliance-trestle')} (models follow OSCAL {trestle_oscal_version()})"
    return ProcessFacts(version("oscal-mcp"), newest_version(), bundled_versions(), library)


FACTS = Once(process_facts)


def describe(facts: ServerFacts, process: ProcessFacts) -> AboutResult:
    """Everything `about` says except the caller (which `about` adds per request)."""
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
        server_version=process.server_version,
        oscal_version=process.oscal_version,
        oscal_schema_versions=list(process.oscal_schema_versions),
        oscal_library=process.oscal_library,
        transport=facts.transport,
        auth=auth,
    )


def _caller() -> CallerInfo | None:
    token = get_access_token()
    if token is None:
        return None
    return CallerInfo(client_id=token.client_id, subject=token.subject, scopes=list(token.scopes))


def register(server: MCPServer[Any], context: ToolContext) -> None:
    described = Once(lambda: describe(context.server, FACTS.get()))  # the same for every call of this server

    # async: the answer is built once, so a call costs no more than the event loop's own work (a sync
    # tool would run in the SDK's worker thread, which costs more CPU than the tool itself).
    async def about() -> AboutResult:
        """Describe this OSCAL MCP server: its version, the OSCAL releases whose NIST schemas it
        bundles, the transport in use, whether authentication is on (and which verifier), and the
        calling client's id and scopes when the request is authenticated. Never returns secrets."""
        base = described.get() if FACTS.built else await described.aget()  # only FACTS reads files
        caller = _caller()
        return base if caller is None else base.model_copy(update={"caller": caller})

    server.add_tool(about, name="about", title="About this server")
