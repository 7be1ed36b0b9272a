"""`list_oscal_documents` and `search_oscal`: what the document store holds, and full-text search in it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.oscal.objects import string
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import PAGE_BYTES, Detail, DetailParam, MaxBytesParam, fit_bytes
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import OffsetParam
from oscal_mcp.tools.results import MAX_PROBLEM_CHARS, MAX_PROBLEMS_SHOWN, problem_lines
from oscal_mcp.tools.store_access import (
    DEFAULT_LIMIT,
    DocumentSummary,
    LimitParam,
    ModelParam,
    Page,
    StoreAccess,
    document_ref,
    fitted_page,
    model_name,
    page_info,
    page_object,
)

MAX_SEARCH_LIMIT = 50
SNIPPET_CHARS = 240

if TYPE_CHECKING:  # the store is imported at its first use, not at start-up
    from oscal_mcp.oscal.store import DocumentStore, StoredDocument
    from oscal_mcp.oscal.store_checks import ConstraintCheck
    from oscal_mcp.oscal.store_index import HitPage


class ConstraintValidation(BaseModel):
    status: Literal["valid", "invalid", "unchecked"] = Field(
        description="Against the constraints of NIST's Metaschema modules (allowed values, references, "
        "uniqueness...): invalid when an ERROR-level constraint is broken; warnings do not count."
    )
    error_count: int
    warning_count: int
    findings: list[str] = Field(description="The first findings, as 'JSON path: [constraint id] message'.")
    note: str | None = None


class DocumentValidation(BaseModel):
    status: Literal["valid", "invalid", "unchecked"] = Field(
        description="Against NIST's OSCAL JSON Schema, checked when the store was built. An invalid document "
        "stays queryable, but profile resolution and other tools may fail on it."
    )
    schema_version: str | None = Field(description="The NIST schema release used (null: OSCAL version unsupported).")
    error_count: int
    errors: list[str] = Field(description="The first errors, as 'JSON path: message'.")
    note: str | None = Field(description="Which schema was chosen and why, or why the document was not checked.")
    constraints: ConstraintValidation | None = Field(
        default=None, description="Against NIST's Metaschema constraints (null: not checked)."
    )


class ListedDocument(DocumentSummary):
    validation: DocumentValidation


class DocumentList(Page):
    model: str | None
    documents: list[ListedDocument]
    invalid_count: int = Field(description="How many of the listed model's documents NIST's schema rejects.")
    directory: str | None = Field(description="OSCAL_DOCUMENTS_DIR, or null when only bundled content is loaded.")
    problems: list[str] = Field(description=f"Files that were skipped, and why (the first {MAX_PROBLEMS_SHOWN}).")
    problem_count: int


class SearchHit(BaseModel):
    id: str = Field(description="The object's id across the store: get_oscal_object or fetch return it whole.")
    model: str
    kind: str = Field(description="control, group, part, component, finding, poam-item, map, document...")
    title: str
    snippet: str = Field(description="Where the words matched, marked with [ ].")
    document: str = Field(description="The source of the document it lives in (see list_oscal_documents).")
    object: dict[str, Any] | None = Field(default=None, description="With detail=full: the OSCAL object, bounded.")
    clipped: list[str] | None = Field(default=None, description="With detail=full: JSON paths of what was cut.")


class SearchResult(Page):
    text: str
    model: str | None
    match: str = Field(description="'all words' when every word matched; else 'any word' (a looser fallback).")
    hits: list[SearchHit]


def summary(d: StoredDocument) -> ListedDocument:
    metadata = d.metadata
    check = d.check
    return ListedDocument(
        **document_ref(d).model_dump(),
        version=clip(string(metadata, "version"), 100),
        oscal_version=clip(string(metadata, "oscal-version"), 40),
        last_modified=clip(string(metadata, "last-modified"), 60),
        origin=d.origin,
        object_count=sum(1 for _ in d.objects()),
        validation=DocumentValidation(
            status=check.status,
            schema_version=check.schema_version,
            error_count=check.error_count,
            errors=[clip(error, MAX_PROBLEM_CHARS) for error in check.errors],
            note=clip(check.note, MAX_PROBLEM_CHARS) if check.note else None,
            constraints=_constraint_validation(check.constraints),
        ),
    )


def _constraint_validation(check: ConstraintCheck | None) -> ConstraintValidation | None:
    if check is None:
        return None
    return ConstraintValidation(
        status=check.status,
        error_count=check.error_count,
        warning_count=check.warning_count,
        findings=[clip(finding, MAX_PROBLEM_CHARS) for finding in check.findings],
        note=check.note,
    )


def document_list(
    store: DocumentStore, model: str | None, limit: int, offset: int, max_bytes: int = PAGE_BYTES
) -> DocumentList:
    documents = store.of_model(model)
    shown, info = fitted_page(documents, offset, limit, summary, max_bytes)
    return DocumentList(
        **info.model_dump(),
        model=model,
        documents=shown,
        invalid_count=sum(1 for d in documents if d.check.status == "invalid"),
        directory=str(store.directory) if store.directory else None,
        problems=problem_lines(store.problems),
        problem_count=len(store.problems),
    )


def search_result(
    store: DocumentStore,
    page: HitPage,
    text: str,
    model: str | None,
    offset: int,
    detail: Detail = "summary",
    max_bytes: int = PAGE_BYTES,
) -> SearchResult:
    hits, _ = fit_bytes((search_hit(store, h.entry, h.snippet, detail, max_bytes) for h in page.hits), max_bytes)
    info = page_info(page.total, offset, len(hits), asked=len(page.hits), max_bytes=max_bytes)
    return SearchResult(
        **info.model_dump(),
        text=clip(text.strip(), 200),
        model=model,
        match=page.mode,
        hits=hits,
    )


def search_hit(store: DocumentStore, entry: int, snippet: str, detail: Detail, max_bytes: int) -> SearchHit:
    document, found = store.entry(entry)
    hit = SearchHit(
        id=clip(store.entry_id(entry), 300),
        model=document.model,
        kind=found.kind if found else "document",
        title=clip(found.title if found else document.title, 200),
        snippet=clip(snippet, SNIPPET_CHARS),
        document=clip(document.source, 200),
    )
    if detail == "full":  # the document's own entry shows its metadata
        obj, nested = (found.obj, found.nested) if found else ({"metadata": document.metadata}, frozenset[str]())
        hit.object, hit.clipped = page_object(obj, nested, max_bytes)
    return hit


def register(server: MCPServer[Any], access: StoreAccess) -> None:
    async def list_oscal_documents(
        model: ModelParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> DocumentList:
        """List the OSCAL documents this server can query: the bundled NIST SP 800-53 rev5 catalog
        and its LOW, MODERATE, HIGH and PRIVACY baseline profiles, sample component definitions,
        every document in the operator's OSCAL_DOCUMENTS_DIR (JSON, YAML, .zip) and the component
        definitions in OSCAL_COMPONENT_DEFINITIONS_DIR, optionally of
        one model (catalog, profile, system-security-plan, assessment-plan, assessment-results,
        plan-of-action-and-milestones, mapping-collection, component-definition). Each has a source,
        uuid, title, version, how many objects it holds and its validation against NIST's schema
        (status valid, invalid or unchecked, with the first errors; invalid_count counts the
        invalid ones). Files that could not be read are listed in problems. Use it to find the
        document to pass to the other query tools, or to see which documents need fixing."""
        store = await access.get()
        return document_list(store, model_name(model), limit, offset, max_bytes)

    async def search_oscal(
        text: Annotated[
            str,
            Field(
                description="Words, a control id (ac-2.1, AC-2(1)), a uuid or a name; every word must match "
                "(when no object has them all, any word may)."
            ),
        ],
        model: ModelParam = None,
        limit: Annotated[int, Field(ge=1, le=MAX_SEARCH_LIMIT, description="Most hits, 1 to 50.")] = 10,
        offset: OffsetParam = 0,
        detail: DetailParam = "summary",
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> SearchResult:
        """Full-text search across every OSCAL document the server holds (catalog controls and groups,
        profiles, components and capabilities, SSP components and implemented requirements, assessment
        tasks, activities, findings, observations and risks, POA&M items, control mappings, document
        metadata), optionally in one model. Best matches first, each with its id, kind, title, a
        snippet and its document; detail=full adds each OSCAL object (bounded), get_oscal_object
        returns one whole by its id. Use it when you do not know where something is defined: "which
        findings mention encryption", "what says multi-factor". Words are matched as words (no
        query syntax); when no object has them all, objects with any of them are returned."""
        from oscal_mcp.oscal.store_index import QueryTextError, SearchIndexError

        store = await access.get()
        wanted = model_name(model)
        try:
            page = store.search(text, wanted, limit, offset)  # a millisecond or two: no thread hop
        except QueryTextError as exc:
            raise ToolError(str(exc)) from None
        except SearchIndexError as exc:
            raise ToolError(f"{exc}; try other words") from None
        return search_result(store, page, text, wanted, offset, detail, max_bytes)

    server.add_tool(
        list_oscal_documents, name="list_oscal_documents", title="List OSCAL documents", annotations=read_only()
    )
    server.add_tool(search_oscal, name="search_oscal", title="Search OSCAL documents", annotations=read_only())
