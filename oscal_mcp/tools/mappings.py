"""`list_control_mappings`: the entries of OSCAL mapping collections (OSCAL 1.2)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from oscal_mcp.oscal.catalogs import control_id_forms
from oscal_mcp.oscal.objects import dicts, string
from oscal_mcp.oscal.queries import Found
from oscal_mcp.tools.budget import PAGE_BYTES, DetailParam, MaxBytesParam
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import OffsetParam
from oscal_mcp.tools.store_access import (
    DEFAULT_LIMIT,
    LimitParam,
    MappingParam,
    ObjectPage,
    PageRequest,
    StoreAccess,
    listed_objects,
)


def mentions(found: Found, control_id: str) -> bool:
    """Whether a map entry has `control_id` among its sources or targets (any case, AC-2(1) accepted)."""
    wanted = control_id_forms(control_id)
    ends = dicts(found.obj, "sources") + dicts(found.obj, "targets")
    return any(string(end, "id-ref").lower() in wanted for end in ends)


def register(server: MCPServer[Any], access: StoreAccess) -> None:
    async def list_control_mappings(
        mapping_collection: MappingParam = None,
        control_id: Annotated[
            str | None, Field(description="Only entries with this control among their sources or targets.")
        ] = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        detail: DetailParam = "summary",
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> Annotated[CallToolResult, ObjectPage]:
        """List the entries of control mapping collections: which source controls relate to which
        target controls (relationship: equivalent-to, subset-of, superset-of, intersects-with...),
        with confidence and remarks, each as a summary (id,
        title, short description; detail=full adds the whole OSCAL map object); the source and target catalogs or
        profiles are in context. Use it for "what does CIS 5.1 map to in SP 800-53" (filter with
        control_id). Paginated."""
        keep = (lambda found: mentions(found, control_id)) if control_id else None
        page = PageRequest(offset=offset, limit=limit, detail=detail, max_bytes=max_bytes)
        return await listed_objects(
            access, "mapping-collection", mapping_collection, "map", page, keep, filters=(control_id,)
        )

    server.add_tool(
        list_control_mappings, name="list_control_mappings", title="List control mappings", annotations=read_only()
    )
