"""What the tool families receive: the tools' settings, public facts about the server, shared indexes.

Never the server's whole settings: a tool sees ``OSCAL_*`` tool settings, and the `about` tool
sees the few auth facts it reports (verifier name, issuer, resource URL, scopes), never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from oscal_mcp.oscal.lazy import Once
from oscal_mcp.tools.settings import ToolSettings

if TYPE_CHECKING:
    from oscal_mcp.config import Settings
    from oscal_mcp.oscal.components import ComponentIndex
    from oscal_mcp.oscal.profiles import ResolutionCache
    from oscal_mcp.oscal.store import DocumentStore


@dataclass(frozen=True)
class AuthFacts:
    verifier: str | None
    issuer_url: str | None
    resource_server_url: str | None
    required_scopes: tuple[str, ...]


@dataclass(frozen=True)
class ServerFacts:
    name: str
    transport: str
    auth: AuthFacts | None  # None when requests are not authenticated


@dataclass(frozen=True)
class ToolContext:
    tools: ToolSettings
    server: ServerFacts
    store: Once[DocumentStore]  # every document the server offers, read once
    components: Once[ComponentIndex]  # built from the store's component definitions
    # the store's profiles as resolved, for the store tools and validation's control-id check alike
    resolutions: Once[ResolutionCache] = field(default_factory=lambda: Once(_resolution_cache))

    @classmethod
    def from_settings(cls, settings: Settings) -> ToolContext:
        tools = settings.tools
        auth = None
        if settings.auth_enabled:
            auth = AuthFacts(
                verifier=settings.auth.verifier,
                issuer_url=settings.auth.issuer_url,
                resource_server_url=settings.auth.resource_server_url,
                required_scopes=tuple(settings.auth.required_scopes),
            )
        server = ServerFacts(name=settings.server_name, transport=settings.transport, auth=auth)
        store = Once(lambda: _document_store(tools))
        return cls(tools=tools, server=server, store=store, components=Once(lambda: _component_index(store.get())))


# The store and the index modules are imported at their first build, not at start-up.
def _document_store(tools: ToolSettings) -> DocumentStore:
    from oscal_mcp.oscal.store import build_store

    return build_store(tools.documents_dir, tools, tools.component_definitions_dir)


def _component_index(store: DocumentStore) -> ComponentIndex:
    from oscal_mcp.oscal.components_loading import build_index

    return build_index(store)


def _resolution_cache() -> ResolutionCache:
    from oscal_mcp.oscal.profiles import ResolutionCache

    return ResolutionCache()
