"""The tool families the server registers, in the order clients list them, and what their first
calls would otherwise pay for (the background warm-up's steps) and when that warm-up starts."""

from __future__ import annotations

import json
from typing import Any

import anyio
from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware
from mcp.server.mcpserver import MCPServer

from oscal_mcp.oscal.warmup import Step, WarmUp, nist_schemas, trestle_models
from oscal_mcp.tools import (
    about,
    assessments,
    catalogs,
    components,
    connector,
    documentation,
    documents,
    implementations,
    mappings,
    metaschema,
    models,
    objects,
    profiles,
    resources,
    schemas,
    validation,
)
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.store_access import StoreAccess

TOOL_FAMILIES = (about, models, schemas, validation, metaschema, components, resources)
# Families over the document store; they share one store, built at their first call.
STORE_FAMILIES = (
    documents,
    objects,
    connector,
    documentation,
    catalogs,
    profiles,
    implementations,
    assessments,
    mappings,
)
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
HANDSHAKE_REQUEST = "initialize"
# Cheap tools whose answers are built once; calling each once through the SDK's public call_tool
# runs the SDK's per-tool code before the first client call does.
EXERCISED: tuple[tuple[str, dict[str, Any]], ...] = (
    ("about", {}),
    ("list_oscal_models", {}),
    ("list_oscal_resources", {}),
)


# The store tools' own first run through the SDK (argument model, output adapter, serializers),
# called from the warm-up thread on an event loop of its own once the store is built. Arguments
# no benchmark or test asks for first, so no answer a caller will ask for is made ahead of it.
STORE_EXERCISED: tuple[tuple[str, dict[str, Any]], ...] = (
    ("search_oscal", {"text": "warm up"}),
    ("search", {"query": "warm up"}),
    ("get_catalog_control", {"control_id": "pm-1"}),
    ("get_oscal_object", {"id": "pm-1"}),
    ("fetch", {"id": "pm-1"}),
    ("list_catalog_controls", {"limit": 1}),
    ("search_oscal_docs", {"query": "warm up"}),
)


async def _exercise_store_tools(server: MCPServer[Any]) -> None:
    for name, arguments in STORE_EXERCISED:
        await server.call_tool(name, arguments)


async def exercise(server: MCPServer[Any]) -> None:
    """Call the `EXERCISED` tools once each, on the calling event loop (over HTTP the server's own,
    before the first request; over stdio the warm-up thread's, as its first steps)."""
    for name, arguments in EXERCISED:
        await server.call_tool(name, arguments)


def register_tools(server: MCPServer[Any], context: ToolContext) -> WarmUp:
    """Register every family; returns the (not yet started) warm-up of what their first calls need."""
    for family in TOOL_FAMILIES:
        family.register(server, context)
    store = StoreAccess(context.store, context.resolutions)
    for store_family in STORE_FAMILIES:
        store_family.register(server, store)
    steps: tuple[Step, ...] = (  # the cheap ones first: a first call may come at any moment
        ("package versions", about.FACTS.get),
        ("model list", models.MODEL_LIST.get),
        ("resource list", resources.CATALOG.get),
        ("cheap tool calls", lambda: anyio.run(exercise, server)),
        ("document store", context.store.get),  # the component index is built from it
        ("component index", context.components.get),
        ("component summaries", lambda: components.listings(context.components.get())),
        ("trestle models", trestle_models),
        ("NIST schemas", nist_schemas),
        ("validation levels", _validate_tiny_catalog),
        ("store tool calls", lambda: anyio.run(_exercise_store_tools, server)),
    )
    return WarmUp(steps)


def _validate_tiny_catalog() -> None:
    from oscal_mcp.oscal.models import get_model
    from oscal_mcp.oscal.validation import Request, validate

    validate(Request(TINY_CATALOG, "json", get_model("catalog"), "warm-up", 1))


def start_after_handshake(warm_up: WarmUp, server: MCPServer[Any]) -> ServerMiddleware[Any]:
    """A server middleware that starts `warm_up` once the client's start-up has been answered: after
    the first request that follows ``initialize`` (``tools/list``, which clients send at once), or
    after ``server/discover`` (protocol 2026-07-28). Not at ``notifications/initialized``: the
    thread holds the GIL for most of its run, and started there it made the ``tools/list`` answer
    wait for it (bench/README.md, cold paths and start-up)."""
    started = False

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        nonlocal started
        result = await call_next(ctx)
        if not started and ctx.request_id is not None and ctx.method != HANDSHAKE_REQUEST:
            started = True
            warm_up.start()
        return result

    return middleware
