"""Catalog tools: `list_catalog_groups`, `list_catalog_controls`, `get_catalog_control`."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from oscal_mcp.oscal.catalogs import controls, find_control, groups, label, near_miss, param_text, statement_text
from oscal_mcp.oscal.objects import dicts, string
from oscal_mcp.oscal.queries import Found
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import PAGE_BYTES, Detail, DetailParam, MaxBytesParam
from oscal_mcp.tools.compact import compact_result
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import OffsetParam
from oscal_mcp.tools.store_access import (
    CatalogParam,
    DocumentRef,
    OscalObject,
    Page,
    StoreAccess,
    document_ref,
    find_document,
    fitted_page,
    oscal_object,
)

MAX_CONTROL_LIMIT = 200
ListCatalogParam = Annotated[
    str | None,
    Field(
        description="The catalog: uuid, title or file name (see list_oscal_documents); omit for the first one "
        "(the bundled NIST SP 800-53 rev5 catalog)."
    ),
]

if TYPE_CHECKING:  # the store is imported at its first use, not at start-up
    from oscal_mcp.oscal.store import DocumentStore, StoredDocument


class GroupInfo(BaseModel):
    id: str
    title: str
    class_name: str = Field(description="The group's OSCAL class, e.g. family.")
    context: dict[str, str]
    control_count: int = Field(description="Controls directly in the group (enhancements not counted).")


class GroupList(Page):
    catalog: DocumentRef
    groups: list[GroupInfo]


class ParameterInfo(BaseModel):
    id: str
    text: str = Field(
        description="As the statement reads it: the value(s) set, or [Assignment: ...] / [Selection: ...]."
    )


class ControlSummary(BaseModel):
    id: str
    label: str
    title: str
    context: dict[str, str] = Field(description="group-id, and parent-control-id for an enhancement.")
    status: str = Field(description="'withdrawn' for withdrawn controls, else empty.")
    parameters: list[ParameterInfo] | None = Field(description="With detail=full: as the statement shows them.")
    enhancement_ids: list[str]


class ControlList(Page):
    catalog: DocumentRef
    group: str | None
    controls: list[ControlSummary]


class ControlDetail(BaseModel):
    control: OscalObject = Field(description="The control as in the catalog; enhancements left out unless asked for.")
    statement: str = Field(description="The statement as text, parameters shown as NIST prints them.")
    parameters: list[ParameterInfo]
    enhancement_ids: list[str]
    also_in: list[str] = Field(description="Other catalogs with a control of this id.")


def default_catalog(store: DocumentStore, raw: str | None) -> StoredDocument:
    if raw:
        return find_document(store, raw, "catalog")
    catalogs = store.of_model("catalog")
    if not catalogs:
        raise ToolError("no catalog is loaded; add one to OSCAL_DOCUMENTS_DIR")
    return catalogs[0]


def parameters(control: dict[str, Any]) -> list[ParameterInfo]:
    return [
        ParameterInfo(id=clip(string(p, "id"), 100), text=clip(param_text(p), 500)) for p in dicts(control, "params")
    ]


def control_summary(found: Found, detail: Detail = "full") -> ControlSummary:
    status = next((string(p, "value") for p in dicts(found.obj, "props") if string(p, "name") == "status"), "")
    return ControlSummary(
        id=clip(found.ref, 100),
        label=clip(label(found.obj), 100),
        title=clip(found.title, 300),
        context=found.context,
        status=clip(status, 40),
        parameters=parameters(found.obj) if detail == "full" else None,
        enhancement_ids=[clip(string(c, "id"), 100) for c in dicts(found.obj, "controls")],
    )


def control_list(
    catalog: StoredDocument,
    group: str | None,
    limit: int,
    offset: int,
    detail: Detail = "summary",
    max_bytes: int = PAGE_BYTES,
) -> ControlList:
    found = control_summaries(catalog, detail)
    if group:
        wanted = group.strip().lower()
        if wanted not in {g.id.lower() for g in group_infos(catalog)}:
            raise ToolError(
                f"catalog {clip(catalog.title, 80)!r} has no group {clip(group, 60)!r}; call list_catalog_groups"
            )
        found = tuple(f for f in found if f.context.get("group-id", "").lower() == wanted)
    shown, info = fitted_page(found, offset, limit, lambda summary: summary, max_bytes)
    return ControlList(
        **info.model_dump(),
        catalog=document_ref(catalog),
        group=group,
        controls=shown,
    )


@lru_cache(maxsize=64)  # a stored document never changes: its controls are summarized once
def control_summaries(document: StoredDocument, detail: Detail) -> tuple[ControlSummary, ...]:
    return tuple(control_summary(f, detail) for f in controls(document.body))


@lru_cache(maxsize=32)  # a stored document never changes: its groups are listed once
def group_infos(document: StoredDocument) -> tuple[GroupInfo, ...]:
    return tuple(
        GroupInfo(
            id=clip(g.ref, 100),
            title=clip(g.title, 300),
            class_name=clip(string(g.obj, "class"), 100),
            context=g.context,
            control_count=len(dicts(g.obj, "controls")),
        )
        for g in groups(document.body)
    )


def group_list(document: StoredDocument, offset: int, max_bytes: int) -> GroupList:
    infos = group_infos(document)
    shown, info = fitted_page(infos, offset, len(infos), lambda group: group, max_bytes)
    return GroupList(
        **info.model_dump(),
        catalog=document_ref(document),
        groups=shown,
    )


def control_detail(store: DocumentStore, control_id: str, catalog: str | None, enhancements: bool) -> ControlDetail:
    if not control_id.strip():
        raise ToolError("control_id is empty; give a control id such as ac-2, or an enhancement such as ac-2.1")
    candidates = [find_document(store, catalog, "catalog")] if catalog else store.of_model("catalog")
    hits = [(d, f) for d in candidates if (f := find_control(d.body, control_id)) is not None]
    if not hits:
        where = f"catalog {clip(candidates[0].title, 80)!r}" if catalog else f"the {len(candidates)} loaded catalog(s)"
        near = next((n for d in candidates if (n := near_miss(d.body, control_id)) is not None), None)
        raise ToolError(
            f"no control {clip(control_id.strip(), 60)!r} in {where}"
            + (f" ({clip(near, 200)})" if near else "")
            + "; ids look like ac-2 or ac-2.1 (AC-2(1) is accepted); call list_catalog_controls or search_oscal"
        )
    document, found = hits[0]
    shown = (
        found
        if enhancements
        else Found(
            found.kind, found.ref, found.title, {k: v for k, v in found.obj.items() if k != "controls"}, found.context
        )
    )
    return ControlDetail(
        control=oscal_object(store, document, shown),
        statement=statement_text(found.obj),
        parameters=parameters(found.obj),
        enhancement_ids=[clip(string(c, "id"), 100) for c in dicts(found.obj, "controls")],
        also_in=[clip(d.source, 300) for d, _ in hits[1:]],
    )


def register(server: MCPServer[Any], access: StoreAccess) -> None:
    async def list_catalog_groups(
        catalog: ListCatalogParam = None, offset: OffsetParam = 0, max_bytes: MaxBytesParam = PAGE_BYTES
    ) -> GroupList:
        """List the groups (control families such as AC Access Control, AU Audit and Accountability)
        of a catalog, with id, title, class and how many controls each holds. Use the group id with
        list_catalog_controls."""
        document = default_catalog(await access.get(), catalog)
        return group_list(document, offset, max_bytes)

    async def list_catalog_controls(
        catalog: ListCatalogParam = None,
        group: Annotated[str | None, Field(description="Only this group (family) id, e.g. ac; omit for all.")] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_CONTROL_LIMIT, description="Page size, 1 to 200.")] = 50,
        offset: OffsetParam = 0,
        detail: DetailParam = "summary",
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> ControlList:
        """List a catalog's controls and control enhancements in document order, optionally of one
        group (family): id, label (AC-2(1)), title, group and parent control, withdrawn status and
        enhancement ids; with detail=full also the parameters as the statement shows them.
        Paginated. Call get_catalog_control for a control's full statement, guidance and OSCAL
        object."""
        document = default_catalog(await access.get(), catalog)
        return control_list(document, group, limit, offset, detail, max_bytes)

    async def get_catalog_control(
        control_id: Annotated[str, Field(description="The control id, e.g. ac-2 or the enhancement ac-2.1 (AC-2(1)).")],
        catalog: CatalogParam = None,
        include_enhancements: Annotated[
            bool, Field(description="Include the control's enhancements in the object (they can be large).")
        ] = False,
    ) -> Annotated[CallToolResult, ControlDetail]:
        """Return one control (or control enhancement such as ac-2.1) from a catalog: the OSCAL control
        object (parameters, properties, links, statement, guidance and assessment parts), its statement
        as readable text with parameters shown as [Assignment: ...] or [Selection: ...], and the ids of
        its enhancements. Use it to answer "what does AC-2(1) require". Looks in every catalog (the
        bundled NIST SP 800-53 rev5 first) unless catalog is given."""
        store = await access.get()
        key = ("control", control_id.strip().lower(), catalog, include_enhancements)
        return access.answers.get(
            key, lambda: compact_result(control_detail(store, control_id, catalog, include_enhancements))
        )

    tools = (
        (list_catalog_groups, "list_catalog_groups", "List a catalog's groups"),
        (list_catalog_controls, "list_catalog_controls", "List a catalog's controls"),
        (get_catalog_control, "get_catalog_control", "Get a catalog control"),
    )
    for fn, tool_name, title in tools:
        server.add_tool(fn, name=tool_name, title=title, annotations=read_only())
