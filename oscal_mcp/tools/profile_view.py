"""A profile as written (`get_profile`): its imports with their include and exclude rules, its merge
directive and its modifications (set-parameters, alters), each listed compactly with the id that
`get_oscal_object` returns it whole by; the page of modifications stops at its size budget."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from oscal_mcp.oscal.catalogs import param_text
from oscal_mcp.oscal.clipping import bound
from oscal_mcp.oscal.objects import child, dicts, string, strings
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import fit_bytes
from oscal_mcp.tools.store_access import DocumentRef, Page, document_ref, page_info

if TYPE_CHECKING:
    from oscal_mcp.oscal.store import DocumentStore, StoredDocument

MAX_IDS_SHOWN = 40


class ControlSelection(BaseModel):
    with_ids: list[str] = Field(description=f"The control ids it names (the first {MAX_IDS_SHOWN}).")
    with_id_count: int = Field(description="How many control ids it names in all.")
    matching: list[str] = Field(description="Its id patterns (matching pattern), if any.")
    with_child_controls: str | None = Field(description="yes: the named controls' enhancements come along.")


class ImportInfo(BaseModel):
    id: str = Field(description="get_oscal_object returns the whole import (every id) by this id.")
    href: str
    resolves_to: str | None = Field(description="The store document the import refers to, or null.")
    problem: str | None = Field(description="Why the import does not resolve, when it does not.")
    selected_ids: int = Field(description="How many control ids its include-controls name (0 for include-all).")
    include_all: bool
    include: list[ControlSelection] = Field(description="Its include-controls rules.")
    exclude: list[ControlSelection] = Field(description="Its exclude-controls rules.")


class Modification(BaseModel):
    id: str = Field(description="get_oscal_object returns the whole set-parameter or alter by this id.")
    kind: str = Field(description="set-parameter or alter")
    target: str = Field(description="The param-id it sets, or the control-id it alters.")
    summary: str = Field(description="The values or label set; the parts and props an alter adds or removes.")


class ProfileDetail(Page):
    profile: DocumentRef
    imports: list[ImportInfo]
    merge: dict[str, Any] | None = Field(description="The merge directive as in the profile (bounded).")
    set_parameter_count: int
    alter_count: int
    modifications: list[Modification] = Field(description="Set-parameters then alters, from offset on.")


def profile_detail(store: DocumentStore, profile: StoredDocument, offset: int, max_bytes: int) -> ProfileDetail:
    modify = child(profile.body, "modify")
    settings, alters = dicts(modify, "set-parameters"), dicts(modify, "alters")
    changes = [_setting(profile, s) for s in settings] + [_alter(profile, a) for a in alters]
    imports = [_import_info(store, profile, number, imported) for number, imported in _imports(profile)]
    room = max_bytes - sum(len(i.model_dump_json()) for i in imports)
    shown, _ = fit_bytes(changes[offset:], max(room, 0))
    info = page_info(len(changes), offset, len(shown), asked=len(changes) - offset, max_bytes=max_bytes)
    return ProfileDetail(
        **info.model_dump(),
        profile=document_ref(profile),
        imports=imports,
        merge=bound(child(profile.body, "merge")).value or None,
        set_parameter_count=len(settings),
        alter_count=len(alters),
        modifications=shown,
    )


def _imports(profile: StoredDocument) -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(dicts(profile.body, "imports")))


def _selection(rule: dict[str, Any]) -> ControlSelection:
    ids = strings(rule, "with-ids")
    return ControlSelection(
        with_ids=[clip(i, 100) for i in ids[:MAX_IDS_SHOWN]],
        with_id_count=len(ids),
        matching=[clip(string(m, "pattern"), 100) for m in dicts(rule, "matching")][:MAX_IDS_SHOWN],
        with_child_controls=string(rule, "with-child-controls") or None,
    )


def _import_info(store: DocumentStore, profile: StoredDocument, number: int, imported: dict[str, Any]) -> ImportInfo:
    from oscal_mcp.oscal.profiles import ProfileResolutionError, import_target

    href = string(imported, "href")
    try:
        target: str | None = import_target(store, profile, href).source
        problem = None
    except ProfileResolutionError as exc:
        target, problem = None, clip(str(exc), 500)
    include = dicts(imported, "include-controls")
    return ImportInfo(
        id=clip(f"{profile.uuid}/import/{href}", 400),
        href=clip(href, 300),
        resolves_to=target,
        problem=problem,
        selected_ids=sum(len(strings(rule, "with-ids")) for rule in include),
        include_all="include-all" in imported,
        include=[_selection(rule) for rule in include],
        exclude=[_selection(rule) for rule in dicts(imported, "exclude-controls")],
    )


def _setting(profile: StoredDocument, setting: dict[str, Any]) -> Modification:
    param_id = string(setting, "param-id")
    return Modification(
        id=clip(f"{profile.uuid}/set-parameter/{param_id}", 300),
        kind="set-parameter",
        target=clip(param_id, 100),
        summary=clip(param_text(setting), 300),
    )


def _alter(profile: StoredDocument, alter: dict[str, Any]) -> Modification:
    control_id = string(alter, "control-id")
    adds = [f"adds {_names(add)}" for add in dicts(alter, "adds")]
    removes = [f"removes {_removal(rm)}" for rm in dicts(alter, "removes")]
    return Modification(
        id=clip(f"{profile.uuid}/alter/{control_id}", 300),
        kind="alter",
        target=clip(control_id, 100),
        summary=clip("; ".join(adds + removes), 300),
    )


def _names(add: dict[str, Any]) -> str:
    items = [string(p, "name") or string(p, "id") for p in dicts(add, "parts") + dicts(add, "props")]
    where = string(add, "position") or "ending"
    return f"{', '.join(i for i in items if i) or 'content'} ({where})"


def _removal(rm: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in rm.items() if isinstance(value, str)) or "content"
