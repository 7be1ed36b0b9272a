"""`search_oscal_docs` and `read_oscal_doc`: NIST's OSCAL documentation (concepts, the models,
tutorials), bundled verbatim and indexed section by section in the store's full-text index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.oscal.documentation import DOC_ID_PREFIX
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import KB, PAGE_BYTES, MaxBytesParam, cut_note, fit_bytes
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import OffsetParam
from oscal_mcp.tools.store_access import Page, StoreAccess, page_info

if TYPE_CHECKING:
    from oscal_mcp.oscal.documentation import DocPage
    from oscal_mcp.oscal.store import DocumentStore

READ_BYTES = 16 * KB  # one page read, by default
MAX_DOC_HITS = 50


class DocHit(BaseModel):
    id: str = Field(description="Pass to read_oscal_doc (or fetch): the page, from this section on.")
    title: str = Field(description="The page's title.")
    section: str = Field(description="The heading of the section that matched (empty: the page's opening).")
    snippet: str = Field(description="Where the words matched, marked with [ ].")
    url: str = Field(description="NIST's source of the page.")


class DocSearchResult(Page):
    query: str
    hits: list[DocHit]


class DocText(BaseModel):
    id: str
    title: str
    description: str
    url: str = Field(description="NIST's source of the page, at the bundled commit.")
    total_chars: int = Field(description="The page's length in characters.")
    offset: int = Field(description="Where this text starts in the page, in characters.")
    next_offset: int | None = Field(description="Pass as offset for the rest of the page; null at its end.")
    cut: str | None = Field(description="When the text stopped at max_bytes: where, and how to read on.")
    text: str = Field(description="The page's Markdown (NIST's source, Hugo shortcodes included), from offset.")
    sections: list[str] = Field(description="The page's headings, to see what else it holds.")


def section_id(page: str, number: int) -> str:
    return f"{DOC_ID_PREFIX}{page}#{number}" if number else f"{DOC_ID_PREFIX}{page}"


def doc_search(store: DocumentStore, query: str, limit: int, offset: int, max_bytes: int) -> DocSearchResult:
    from oscal_mcp.oscal.store_index import QueryTextError, SearchIndexError

    try:
        page = store.search_docs(query, limit, offset)
    except (QueryTextError, SearchIndexError) as exc:
        raise ToolError(str(exc)) from None
    hits, _ = fit_bytes((_doc_hit(store, hit.entry, hit.snippet) for hit in page.hits), max_bytes)
    info = page_info(page.total, offset, len(hits), asked=len(page.hits), max_bytes=max_bytes)
    return DocSearchResult(**info.model_dump(), query=clip(query.strip(), 200), hits=hits)


def _doc_hit(store: DocumentStore, entry: int, snippet: str) -> DocHit:
    section = store.sections[entry]
    page = store.pages[section.page]
    return DocHit(
        id=section_id(page.id, section.number),
        title=clip(page.title, 200),
        section=clip(section.heading, 200),
        snippet=clip(snippet, 300),
        url=page.url,
    )


def find_page(store: DocumentStore, raw: str) -> tuple[DocPage, int]:
    """The page a doc id names and where to start reading (its section's start)."""
    key = raw.strip().removeprefix(DOC_ID_PREFIX)
    name, _, number = key.partition("#")
    page = store.pages.get(name.removesuffix(".md")) or store.pages.get(f"{name.rstrip('/')}/_index")
    if page is None:
        known = ", ".join(list(store.pages)[:8])
        raise ToolError(
            f"no documentation page {clip(raw.strip(), 120)!r}; ids come from search_oscal_docs (e.g. {known})"
        )
    start = page.sections[int(number)].start if number.isdigit() and int(number) < len(page.sections) else 0
    return page, start


def read_page(store: DocumentStore, raw: str, offset: int | None, max_bytes: int) -> DocText:
    page, start = find_page(store, raw)
    begin = start if offset is None else offset
    if begin > len(page.text):
        raise ToolError(f"offset {begin} is past the end of the page ({len(page.text)} characters)")
    room = max(max_bytes - 2 * KB, KB)  # the page's own fields
    text = page.text[begin : begin + room]
    while len(text.encode()) > room:  # characters outside ASCII take more than a byte
        text = text[: len(text) * 9 // 10]
    after = begin + len(text)
    next_offset = after if after < len(page.text) else None
    return DocText(
        id=f"{DOC_ID_PREFIX}{page.id}",
        title=page.title,
        description=clip(page.description, 500),
        url=page.url,
        total_chars=len(page.text),
        offset=begin,
        next_offset=next_offset,
        cut=cut_note(0, 1, next_offset, max_bytes),
        text=text,
        sections=[clip(s.heading, 120) for s in page.sections if s.heading][:60],
    )


def register(server: MCPServer[Any], access: StoreAccess) -> None:
    async def search_oscal_docs(
        query: Annotated[str, Field(description="Words to find in NIST's OSCAL documentation.")],
        limit: Annotated[int, Field(ge=1, le=MAX_DOC_HITS, description="Most hits, 1 to 50.")] = 10,
        offset: OffsetParam = 0,
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> DocSearchResult:
        """Search NIST's OSCAL documentation, bundled with the server: the concepts (layers and
        models, identifiers, URIs, validation, profile resolution, terminology), each model's
        purpose and structure (catalog, profile, mapping, component definition, SSP, assessment
        plan and results, POA&M) and the tutorials (a basic catalog, a basic profile, metadata,
        extensions, a component definition). Best sections first with a snippet and NIST's URL;
        pass a hit's id to read_oscal_doc for the page. Use it for "what is a by-component" or
        "how do profiles import catalogs"."""
        store = await access.get()
        return doc_search(store, query, limit, offset, max_bytes)

    async def read_oscal_doc(
        id: Annotated[
            str, Field(description="A page id from search_oscal_docs, e.g. oscal-docs:concepts/layer/_index.")
        ],
        offset: Annotated[
            int | None,
            Field(ge=0, description="Where to start, in characters (next_offset); omit for the hit's section."),
        ] = None,
        max_bytes: Annotated[
            int, Field(ge=2 * KB, le=256 * KB, description=f"The most JSON to return ({READ_BYTES} by default).")
        ] = READ_BYTES,
    ) -> DocText:
        """Read one page of NIST's OSCAL documentation as NIST wrote it (Markdown), from the
        section a search_oscal_docs hit named (or from offset), up to max_bytes; next_offset
        reads on. The page's headings are listed to see what else it holds."""
        store = await access.get()
        return read_page(store, id, offset, max_bytes)

    server.add_tool(
        search_oscal_docs, name="search_oscal_docs", title="Search OSCAL documentation", annotations=read_only()
    )
    server.add_tool(
        read_oscal_doc, name="read_oscal_doc", title="Read an OSCAL documentation page", annotations=read_only()
    )
