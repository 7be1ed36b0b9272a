"""System security plan tools: `list_ssp_components`, `list_ssp_implemented_requirements`."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from oscal_mcp.oscal.catalogs import control_id_forms
from oscal_mcp.oscal.objects import string
from oscal_mcp.oscal.queries import Found
from oscal_mcp.tools.budget import PAGE_BYTES, DetailParam, MaxBytesParam
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import OffsetParam
from oscal_mcp.tools.store_access import (
    DEFAULT_LIMIT,
    LimitParam,
    ObjectPage,
    PageRequest,
    SspParam,
    StoreAccess,
    listed_objects,
)

SSP = "system-security-plan"


def control_matcher(control_id: str | None) -> Any:
    """A filter on a found object's ref (a control id), any case, AC-2(1) accepted; None keeps all."""
    if not control_id:
        return None
    wanted = control_id_forms(control_id)
    return lambda found: found.ref.lower() in wanted


def register(server: MCPServer[Any], access: StoreAccess) -> None:
    async def list_ssp_components(
        ssp: SspParam = None,
        component_type: Annotated[
            str | None, Field(description="Only components of this type, e.g. software, service, this-system.")
        ] = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        detail: DetailParam = "summary",
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> Annotated[CallToolResult, ObjectPage]:
        """List the components of a system security plan (system-implementation components: the
        system itself, software, services, hardware, policies, interconnections...) each as a summary
        (id, title, short description; detail=full adds the whole OSCAL object, get_oscal_object
        returns one by its id) with type, title, description, status, props, links, responsible roles and
        protocols. Across every SSP in the store, or one. Paginated. Use it for "what is this system
        made of" or "which SSP components are services"."""
        wanted = (component_type or "").strip().lower()

        def keep(found: Found) -> bool:
            return not wanted or string(found.obj, "type").lower() == wanted

        page = PageRequest(offset=offset, limit=limit, detail=detail, max_bytes=max_bytes)
        return await listed_objects(access, SSP, ssp, "component", page, keep, filters=(wanted,))

    async def list_ssp_implemented_requirements(
        ssp: SspParam = None,
        control_id: Annotated[str | None, Field(description="Only this control, e.g. ac-2 or AC-2(1).")] = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        detail: DetailParam = "summary",
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> Annotated[CallToolResult, ObjectPage]:
        """List how a system security plan implements its controls: each implemented requirement
        (control-id, set-parameters, statements, by-components with the responsible component's
        description of how it implements the control, responsible roles) each as a summary (detail=full:
        the whole OSCAL object).
        Filter by control_id to answer "how does this system do AC-2". Paginated."""
        page = PageRequest(offset=offset, limit=limit, detail=detail, max_bytes=max_bytes)
        keep = control_matcher(control_id)
        return await listed_objects(access, SSP, ssp, "implemented-requirement", page, keep, filters=(control_id,))

    server.add_tool(
        list_ssp_components, name="list_ssp_components", title="List SSP components", annotations=read_only()
    )
    server.add_tool(
        list_ssp_implemented_requirements,
        name="list_ssp_implemented_requirements",
        title="List SSP implemented requirements",
        annotations=read_only(),
    )
