"""`search` and `fetch`: the two-tool contract that ChatGPT's connectors and deep research (and any
client written for them) call without custom code.

``search(query)`` answers ``{"results": [{"id", "title", "url"}]}`` and ``fetch(id)`` answers
``{"id", "title", "text", "url", "metadata"}``, each as one text block of compact JSON (and the
same as structured content). The ids are the store's canonical ids (`get_oscal_object` takes them
too); ``url`` is a stable ``oscal://`` URI. ``search_oscal`` stays the richer search (filters,
snippets, paging).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from oscal_mcp.oscal.documentation import DOC_ID_PREFIX
from oscal_mcp.oscal.objects import dicts, string
from oscal_mcp.oscal.readable import readable_text
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import KB, OBJECT_BYTES, PAGE_BYTES, fit_bytes
from oscal_mcp.tools.compact import compact_result
from oscal_mcp.tools.documentation import find_page
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.objects import located_or_error, whole
from oscal_mcp.tools.store_access import StoreAccess

if TYPE_CHECKING:
    from oscal_mcp.oscal.identifiers import Located
    from oscal_mcp.oscal.store import DocumentStore

SEARCH_RESULTS = 10
DOC_RESULTS = 3


class ConnectorHit(BaseModel):
    id: str = Field(description="Pass to fetch (or get_oscal_object) for the whole object.")
    title: str
    url: str


class ConnectorResults(BaseModel):
    results: list[ConnectorHit]


class ConnectorDocument(BaseModel):
    id: str
    title: str
    text: str = Field(description="The whole object as readable text.")
    url: str
    metadata: dict[str, str] | None = Field(description="kind, model, document, document_title, parent...")


def connector_results(store: DocumentStore, query: str) -> ConnectorResults:
    from oscal_mcp.oscal.store_index import QueryTextError, SearchIndexError

    try:
        page = store.search(query, None, SEARCH_RESULTS, 0)
    except (QueryTextError, SearchIndexError) as exc:
        raise ToolError(str(exc)) from None
    hits = [_hit(store, hit.entry) for hit in page.hits]
    seen: set[str] = set()
    for hit in store.search_docs(query, DOC_RESULTS, 0).hits:  # NIST's documentation after the content, a page once
        section = store.sections[hit.entry]
        if section.page not in seen:
            seen.add(section.page)
            doc = store.pages[section.page]
            hits.append(ConnectorHit(id=f"{DOC_ID_PREFIX}{doc.id}", title=f"OSCAL docs: {doc.title}", url=doc.url))
    shown, _ = fit_bytes(hits, PAGE_BYTES)
    return ConnectorResults(results=shown)


def _hit(store: DocumentStore, entry: int) -> ConnectorHit:
    located = store.entry_objects[entry]
    return ConnectorHit(
        id=clip(store.ids.canonical(located), 300),
        title=clip(_titled(located), 200),
        url=clip(store.ids.url(located), 400),
    )


def _titled(located: Located) -> str:
    """A control's title with its id first (``ir-4 Incident Handling``): a result list reads better."""
    if located.kind == "control" and located.title != located.id:
        return f"{located.id} {located.title}"
    return located.title


def connector_document(store: DocumentStore, raw: str) -> ConnectorDocument:
    if raw.strip().startswith(DOC_ID_PREFIX):
        return _documentation_page(store, raw)
    found = located_or_error(store, raw)
    first = found[0]
    document = store.documents[first.document]
    obj, members = whole(first)
    text = readable_text(first.kind, _titled(first), obj)
    for name in members:  # the nested controls or groups, each fetchable by its id
        listed = [f"- {string(c, 'id')} {string(c, 'title')}" for c in dicts(first.obj, name)]
        text += f"\n\n{name.capitalize()}:\n" + "\n".join(listed)
    metadata = {
        "kind": first.kind,
        "model": document.model,
        "document": clip(document.source, 300),
        "document_title": clip(document.title, 300),
        "document_uuid": document.uuid,
    }
    if first.parent:
        metadata["parent"] = f"{first.parent[0]} {clip(first.parent[1], 200)}"
    return ConnectorDocument(
        id=clip(store.ids.canonical(first), 300),
        title=clip(_titled(first), 300),
        text=text,
        url=clip(store.ids.url(first), 400),
        metadata=metadata,
    )


def _documentation_page(store: DocumentStore, raw: str) -> ConnectorDocument:
    page, _ = find_page(store, raw)
    return ConnectorDocument(
        id=f"{DOC_ID_PREFIX}{page.id}",
        title=page.title,
        text=clip(page.text, OBJECT_BYTES - 4 * KB),
        url=page.url,
        metadata={"kind": "documentation", "description": clip(page.description, 500), "source": "NIST OSCAL"},
    )


def register(server: MCPServer[Any], access: StoreAccess) -> None:
    async def search(
        query: Annotated[str, Field(description="Words, a control id (ir-4, AC-2(1)), a uuid or a name.")],
    ) -> Annotated[CallToolResult, ConnectorResults]:
        """Search every OSCAL document this server holds (catalog controls, profiles, components,
        system security plans, assessment plans and results, POA&M items, mappings) and return the
        best matches as results with id, title and url. Pass a result's id to fetch for the whole
        object. search_oscal offers filters (model), snippets and paging."""
        store = await access.get()
        return compact_result(connector_results(store, query))  # about a millisecond: no thread hop

    async def fetch(
        id: Annotated[str, Field(description="An id from search (or search_oscal, or a listing).")],
    ) -> Annotated[CallToolResult, ConnectorDocument]:
        """Return one OSCAL object by the id search gave: id, title, the whole object as readable
        text (a control as NIST prints it: statement with parameters, guidance, enhancement ids),
        its url and metadata (kind, model, the document it lives in)."""
        store = await access.get()
        return access.answers.get(("fetch", id.strip().lower()), lambda: compact_result(connector_document(store, id)))

    server.add_tool(search, name="search", title="Search OSCAL content", annotations=read_only())
    server.add_tool(fetch, name="fetch", title="Fetch an OSCAL object", annotations=read_only())
