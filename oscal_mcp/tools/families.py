"""The tool families the server registers, in the order clients list them."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from oscal_mcp.oscal import warmup
from oscal_mcp.tools import (
    about,
    assessments,
    catalogs,
    components,
    documents,
    implementations,
    mappings,
    models,
    profiles,
    resources,
    schemas,
    validation,
)
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.store_access import StoreAccess

TOOL_FAMILIES = (about, models, schemas, validation, components, resources)
# Families over the document store; they share one store, built at their first call.
STORE_FAMILIES = (documents, catalogs, profiles, implementations, assessments, mappings)


def register_tools(server: MCPServer[Any], context: ToolContext) -> None:
    """Register every family, then warm the process-wide pieces (validators, the component index)
    in the background, so the first call does not pay for them."""
    for family in TOOL_FAMILIES:
        family.register(server, context)
    store = StoreAccess(context.tools)
    for store_family in STORE_FAMILIES:
        store_family.register(server, store)
    warmup.start(context.components.get)
