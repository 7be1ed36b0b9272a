"""`get_oscal_object`: any identified object of any stored document, whole, by its id.

Controls and enhancements in any spelling (``ac-2.1``, ``AC-2(1)``), groups, parts, parameters,
components, capabilities, parties, roles, tasks, findings, POA&M items, mappings, back-matter
resources... (see `oscal_mcp.oscal.identifiers`), with the document they live in. The ids search
hits and listings carry are exactly what it takes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from oscal_mcp.oscal.clipping import Limits, bound_to_budget
from oscal_mcp.oscal.objects import dicts, string
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import OBJECT_BYTES
from oscal_mcp.tools.compact import compact_result
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.store_access import DocumentRef, StoreAccess, document_ref, find_document

if TYPE_CHECKING:
    from oscal_mcp.oscal.identifiers import Located
    from oscal_mcp.oscal.store import DocumentStore

MAX_ALSO = 10
WHOLE = Limits(max_text=OBJECT_BYTES, max_items=5000)  # one object asked for: cut only to fit its budget
# Members held as objects of their own: left out of a whole object, their ids listed instead.
NESTED_MEMBERS = {"control": ("controls",), "group": ("groups", "controls"), "document": ()}

IdParam = Annotated[
    str,
    Field(
        description="The object's id as search_oscal, search or a listing gave it; or a control id in any "
        "spelling (ac-2.1, AC-2(1)), a part or parameter id (ac-2_smt.a), a uuid, or '<document uuid>/<id>'."
    ),
]


class ObjectAnswer(BaseModel):
    id: str = Field(description="Its id across the store (qualified by its document when another has the same).")
    kind: str = Field(description="control, group, part, param, component, party, role, finding, resource...")
    title: str
    url: str = Field(description="A stable oscal:// URI of the object.")
    document: DocumentRef = Field(description="The document it lives in.")
    parent: dict[str, str] | None = Field(description="The identified object it sits in (kind and id), if any.")
    object: dict[str, Any] = Field(description="The OSCAL object as in the document, whole unless clipped says so.")
    clipped: list[str] = Field(description="JSON paths (from $ = object) of strings or lists that were cut.")
    members: dict[str, list[str]] = Field(
        description="Ids of the nested controls or groups left out of object (fetch each by its id)."
    )
    also: list[str] = Field(description="Other objects this id names, in other documents (their ids).")


def located_or_error(store: DocumentStore, raw: str, document: str | None = None) -> list[Located]:
    """The objects `raw` names (within `document` when given), best first; a ToolError when none."""
    if not raw.strip():
        raise ToolError("id is empty; give an id from search_oscal or a listing, e.g. ac-2 or a uuid")
    found = store.locate(raw)
    if document:
        wanted = find_document(store, document)
        found = [lo for lo in found if lo.document == wanted.number]
    if not found:
        where = f" in {clip(document, 100)!r}" if document else ""
        raise ToolError(
            f"no object has the id {clip(raw.strip(), 120)!r}{where}; ids come from search_oscal, search or a "
            "listing (list_catalog_controls, list_ssp_components...); a control id may be written ac-2.1 or AC-2(1)"
        )
    return found


def whole(located: Located) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The object without its nested controls or groups, and their ids by member name."""
    if located.kind == "document":
        return {"uuid": located.id, "metadata": located.obj.get("metadata")}, {}
    members = NESTED_MEMBERS.get(located.kind, ())
    if not members:
        return located.obj, {}
    kept = {k: v for k, v in located.obj.items() if k not in members}
    listed = {m: [string(c, "id") for c in dicts(located.obj, m)] for m in members if dicts(located.obj, m)}
    return kept, listed


def object_answer(store: DocumentStore, found: list[Located]) -> ObjectAnswer:
    first = found[0]
    obj, members = whole(first)
    bounded = bound_to_budget(obj, OBJECT_BYTES - 4096, WHOLE)
    return ObjectAnswer(
        id=clip(store.ids.canonical(first), 300),
        kind=first.kind,
        title=clip(first.title, 300),
        url=clip(store.ids.url(first), 400),
        document=document_ref(store.documents[first.document]),
        parent={"kind": first.parent[0], "id": clip(first.parent[1], 200)} if first.parent else None,
        object=bounded.value,
        clipped=bounded.all_notes(),
        members=members,
        also=[clip(store.ids.canonical(other), 300) for other in found[1 : 1 + MAX_ALSO]],
    )


def register(server: MCPServer[Any], access: StoreAccess) -> None:
    async def get_oscal_object(
        id: IdParam,
        document: Annotated[
            str | None, Field(description="Only in this document: its uuid, title or file name; omit for any.")
        ] = None,
    ) -> Annotated[CallToolResult, ObjectAnswer]:
        """Return any one OSCAL object whole by its id, from any document of any model: a control or
        enhancement (ac-2.1 or AC-2(1)), group, part (ac-2_smt.a), parameter, component, capability,
        party, role, location, user, task, activity, finding, observation, risk, POA&M item,
        mapping or map entry, back-matter resource, or a document (its uuid: its metadata). Says
        which document it lives in and what it sits in (parent); nested controls or groups are
        listed by id in members. The ids search_oscal and the listings return are exactly what it
        takes; when several documents hold the same id the first is returned and also names the
        others."""
        store = await access.get()
        key = ("object", id.strip().lower(), document)
        return access.answers.get(
            key, lambda: compact_result(object_answer(store, located_or_error(store, id, document)))
        )

    server.add_tool(
        get_oscal_object, name="get_oscal_object", title="Get an OSCAL object by id", annotations=read_only()
    )
