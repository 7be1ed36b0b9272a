"""Profile tools: `get_profile` (imports, merge, modifications) and `resolve_profile` (trestle)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from anyio import to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.oscal.catalogs import normalize_control_id, param_text
from oscal_mcp.oscal.clipping import bound
from oscal_mcp.oscal.objects import child, dicts, string, strings
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.catalogs import ParameterInfo
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import OffsetParam
from oscal_mcp.tools.results import fit
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
    from oscal_mcp.oscal.store import DocumentStore, StoredDocument


class ImportInfo(BaseModel):
    href: str
    resolves_to: str | None = Field(description="The store document the import refers to, or null.")
    problem: str | None = Field(description="Why the import does not resolve, when it does not.")
    selected_ids: int = Field(description="How many control ids its include-controls name (0 for include-all).")
    include_all: bool
    object: dict[str, Any] = Field(description="The OSCAL import object, bounded.")


class ProfileDetail(BaseModel):
    profile: DocumentRef
    imports: list[ImportInfo]
    merge: dict[str, Any] | None
    modify: dict[str, Any] | None = Field(description="set-parameters and alters, as in the profile (bounded).")
    clipped: list[str] = Field(description="JSON paths of merge/modify strings or lists that were cut.")


class ResolvedControlInfo(BaseModel):
    id: str
    title: str
    context: dict[str, str] = Field(description="group-id, and parent-control-id for an enhancement.")
    parameters: list[ParameterInfo] = Field(description="After the profile's set-parameters: values, or the label.")
    params: list[dict[str, Any]] = Field(description="The resolved OSCAL params (values as set by the profile).")
    statement: str | None = Field(description="The statement with parameters filled in (only with control_id).")
    control: dict[str, Any] | None = Field(description="The whole resolved control (only with control_id).")


class ResolvedProfileResult(Page):
    profile: DocumentRef
    sources: list[DocumentRef] = Field(description="The catalogs and profiles the resolution read.")
    control_count: int = Field(description="How many controls (enhancements included) the resolved catalog holds.")
    controls: list[ResolvedControlInfo]


def profile_detail(store: DocumentStore, profile: StoredDocument) -> ProfileDetail:
    imports = [_import_info(store, profile, imported) for imported in dicts(profile.body, "imports")]
    rest = bound({"merge": child(profile.body, "merge"), "modify": child(profile.body, "modify")})
    return ProfileDetail(
        profile=document_ref(profile),
        imports=imports,
        merge=rest.value["merge"] or None,
        modify=rest.value["modify"] or None,
        clipped=rest.all_notes(),
    )


def _import_info(store: DocumentStore, profile: StoredDocument, imported: dict[str, Any]) -> ImportInfo:
    from oscal_mcp.oscal.profiles import ProfileResolutionError, import_target

    href = string(imported, "href")
    try:
        target: str | None = import_target(store, profile, href).source
        problem = None
    except ProfileResolutionError as exc:
        target, problem = None, clip(str(exc), 500)
    selected = sum(len(strings(rule, "with-ids")) for rule in dicts(imported, "include-controls"))
    return ImportInfo(
        href=clip(href, 300),
        resolves_to=target,
        problem=problem,
        selected_ids=selected,
        include_all="include-all" in imported,
        object=bound(imported).value,
    )


def resolved_info(control: ResolvedControl, detailed: bool) -> ResolvedControlInfo:
    return ResolvedControlInfo(
        id=clip(control.id, 100),
        title=clip(control.title, 300),
        context=control.context,
        parameters=[
            ParameterInfo(id=clip(string(p, "id"), 100), text=clip(param_text(p), 500)) for p in control.params
        ],
        params=bound(control.params).value,
        statement=control.statement if detailed else None,
        control=bound(control.control).value if detailed else None,
    )


def register(server: MCPServer[Any], access: StoreAccess) -> None:
    async def get_profile(profile: ProfileParam) -> ProfileDetail:
        """Return a profile (baseline or overlay) as written: each import (the catalog or profile it
        names, which store document that is, how many control ids it selects), the merge directive
        and the modifications (set-parameters, alters), as OSCAL objects. Use resolve_profile for
        the resulting controls."""
        store = await access.get()
        return profile_detail(store, find_document(store, profile, "profile"))

    async def resolve_profile(
        profile: ProfileParam,
        control_id: Annotated[
            str | None,
            Field(description="Only this control (e.g. ac-2), with its statement and whole resolved object."),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_RESOLVED_LIMIT, description="Page size, 1 to 400.")] = 100,
        offset: OffsetParam = 0,
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
            wanted = {control_id.strip().lower(), normalize_control_id(control_id)}
            chosen = [c for c in chosen if c.id.lower() in wanted]
            if not chosen:
                raise ToolError(
                    f"control {clip(control_id.strip(), 60)!r} is not in the resolved profile "
                    f"({len(resolved.controls)} controls); call resolve_profile without control_id to list them"
                )
        shown = fit(resolved_info(c, detailed=bool(control_id)) for c in chosen[offset : offset + limit])
        return ResolvedProfileResult(
            **page_info(len(chosen), offset, len(shown)).model_dump(),
            profile=document_ref(document),
            sources=[document_ref(d) for d in resolved.sources],
            control_count=len(resolved.controls),
            controls=shown,
        )

    server.add_tool(get_profile, name="get_profile", title="Get a profile", annotations=read_only())
    server.add_tool(resolve_profile, name="resolve_profile", title="Resolve a profile", annotations=read_only())
