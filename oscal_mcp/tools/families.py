"""The tool families the server registers, in the order clients list them."""

from __future__ import annotations

import json
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer

from oscal_mcp.oscal import warmup
from oscal_mcp.oscal.models import get_model
from oscal_mcp.oscal.validation import Request, validate
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
# The smallest valid catalog: validating it once runs every level's code before the first caller.
TINY_CATALOG = json.dumps(
    {
        "catalog": {
            "uuid": "00000000-0000-4000-8000-000000000000",
            "metadata": {
                "title": "warm-up",
                "last-modified": "2025-01-01T00:00:00Z",
                "version": "1",
                "oscal-version": "1.2.3",
            },
        }
    }
)
# Cheap tools that share no per-loop state, called once through the SDK's own call path.
EXERCISED: tuple[tuple[str, dict[str, Any]], ...] = (
    ("about", {}),
    ("list_oscal_models", {}),
    ("list_oscal_resources", {}),
    ("list_component_definitions", {"limit": 1}),
    ("query_component_definition", {"query_type": "all", "limit": 1}),
)


def register_tools(server: MCPServer[Any], context: ToolContext) -> None:
    """Register every family, then build in the background what their first calls would otherwise
    pay for: validators, the component index, package versions, the SDK's own call path."""
    for family in TOOL_FAMILIES:
        family.register(server, context)
    store = StoreAccess(context.store)
    for store_family in STORE_FAMILIES:
        store_family.register(server, store)
    warmup.start(
        context.components.get,
        about.process_facts,
        models.list_models,
        resources.catalog,
        lambda: validate(Request(TINY_CATALOG, "json", get_model("catalog"), "warm-up", 1)),
        lambda: anyio.run(_exercise, server),
    )


async def _exercise(server: MCPServer[Any]) -> None:
    """Call a few tools through MCPServer.call_tool, in the warm-up thread's own event loop."""
    for name, arguments in EXERCISED:
        await server.call_tool(name, arguments)
