"""Profile tools: `get_profile` (imports, merge, modifications) and `resolve_profile` (trestle)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from anyio import to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.oscal.catalogs import control_id_forms, param_text
from oscal_mcp.oscal.clipping import bound
from oscal_mcp.oscal.objects import string
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import OBJECT_BYTES, PAGE_BYTES, MaxBytesParam, fit_bytes
from oscal_mcp.tools.catalogs import ParameterInfo
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import OffsetParam
from oscal_mcp.tools.profile_view import ProfileDetail, profile_detail
from oscal_mcp.tools.store_access import (
    DocumentRef,
    Page,
    StoreAccess,
    document_ref,
    find_document,
    page_info,
)

MAX_RESOLVED_LIMIT = 400
ProfileParam = Annotated[
    str,
    Field(
        description="The profile: uuid, title, file name, or a word of its title such as 'moderate' "
        "(see list_oscal_documents with model=profile)."
    ),
]

if TYPE_CHECKING:  # profiles and the store are imported at their first use, not at start-up
    from oscal_mcp.oscal.profiles import ResolvedControl


class ResolvedControlInfo(BaseModel):
    id: str
    title: str
    context: dict[str, str] = Field(description="group-id, and parent-control-id for an enhancement.")
    parameters: list[ParameterInfo] = Field(description="After the profile's set-parameters: values, or the label.")
    params: list[dict[str, Any]] | None = Field(
        description="The resolved OSCAL params, values as set by the profile (only with control_id)."
    )
    statement: str | None = Field(description="The statement with parameters filled in (only with control_id).")
    control: dict[str, Any] | None = Field(description="The whole resolved control (only with control_id).")


class ResolvedProfileResult(Page):
    profile: DocumentRef
    sources: list[DocumentRef] = Field(description="The catalogs and profiles the resolution read.")
    control_count: int = Field(description="How many controls (enhancements included) the resolved catalog holds.")
    controls: list[ResolvedControlInfo]


def resolved_info(control: ResolvedControl, detailed: bool) -> ResolvedControlInfo:
    return ResolvedControlInfo(
        id=clip(control.id, 100),
        title=clip(control.title, 300),
        context=control.context,
        parameters=[
            ParameterInfo(id=clip(string(p, "id"), 100), text=clip(param_text(p), 500)) for p in control.params
        ],
        params=bound(control.params).value if detailed else None,
        statement=control.statement if detailed else None,
        control=bound(control.control).value if detailed else None,
    )


def register(server: MCPServer[Any], access: StoreAccess) -> None:
    async def get_profile(
        profile: ProfileParam, offset: OffsetParam = 0, max_bytes: MaxBytesParam = PAGE_BYTES
    ) -> ProfileDetail:
        """Return a profile (baseline or overlay) as written, not resolved: each import (the catalog
        or profile it names, which store document that is) with its include and exclude rules (the
        control ids and patterns it selects), the merge directive, and its modifications: each
        set-parameter (the values or label it sets) and each alter (the parts and props it adds or
        removes), paged, each with the id get_oscal_object returns it whole by. Use
        resolve_profile for the resulting controls."""
        store = await access.get()
        return profile_detail(store, find_document(store, profile, "profile"), offset, max_bytes)

    async def resolve_profile(
        profile: ProfileParam,
        control_id: Annotated[
            str | None,
            Field(description="Only this control (e.g. ac-2), with its statement and whole resolved object."),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_RESOLVED_LIMIT, description="Page size, 1 to 400.")] = 100,
        offset: OffsetParam = 0,
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> ResolvedProfileResult:
        """Resolve a profile against the catalogs it imports (offline: imports must be documents in
        the store; the bundled NIST SP 800-53 rev5 baselines resolve against the bundled catalog)
        with compliance-trestle's profile resolver, and list the resulting controls: id, title,
        group, and each parameter as set by the profile. control_count says how many controls the
        baseline holds. Use it for "which controls are in the moderate baseline" or, with
        control_id, "what is ac-2's parameter there". Paginated; results are cached."""
        from oscal_mcp.oscal.profiles import ProfileResolutionError

        store = await access.get()
        document = find_document(store, profile, "profile")
        try:
            resolved = await to_thread.run_sync(access.resolutions.get, store, document)
        except ProfileResolutionError as exc:
            raise ToolError(str(exc)) from None
        chosen = resolved.controls
        if control_id:
            wanted = control_id_forms(control_id)
            chosen = [c for c in chosen if c.id.lower() in wanted]
            if not chosen:
                raise ToolError(
                    f"control {clip(control_id.strip(), 60)!r} is not in the resolved profile "
                    f"({len(resolved.controls)} controls); call resolve_profile without control_id to list them"
                )
        asked = chosen[offset : offset + limit]
        budget = max_bytes if not control_id else max(max_bytes, OBJECT_BYTES)  # one control: whole
        shown, _ = fit_bytes((resolved_info(c, detailed=bool(control_id)) for c in asked), budget)
        return ResolvedProfileResult(
            **page_info(len(chosen), offset, len(shown), asked=len(asked), max_bytes=budget).model_dump(),
            profile=document_ref(document),
            sources=[document_ref(d) for d in resolved.sources],
            control_count=len(resolved.controls),
            controls=shown,
        )

    server.add_tool(get_profile, name="get_profile", title="Get a profile", annotations=read_only())
    server.add_tool(resolve_profile, name="resolve_profile", title="Resolve a profile", annotations=read_only())
