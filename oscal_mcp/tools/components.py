"""Component definition tools: list the loaded definitions, and query their components and
capabilities, each returned whole as OSCAL JSON (`oscal_mcp.oscal.components` is the index).

Lists are paginated and summarized; query results carry the matching OSCAL objects (hyphenated
keys, props with ns/class/group, links, responsible-roles, protocols, control implementations...),
clipped (`oscal_mcp.oscal.clipping`, the cuts listed in ``clipped``) and stopped at a size budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.oscal.clipping import bound_to_budget
from oscal_mcp.oscal.components import (
    CAPABILITY_QUERIES,
    COMPONENT_QUERIES,
    ComponentIndex,
    Entry,
    Kind,
    LoadedDefinition,
    QueryError,
    query,
)
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import ENVELOPE_BYTES, PAGE_BYTES, MaxBytesParam, cut_note, fit_bytes
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import OffsetParam, enum_extra
from oscal_mcp.tools.results import (
    MAX_PROBLEMS_SHOWN,
    Page,
    budget_page,
    check_offset,
    problem_lines,
)

MAX_TEXT_CHARS = 500  # descriptions in lists
MAX_NAME_CHARS = 200  # titles, names, types, ids, sources in lists
MAX_MATCH_CHARS = 200_000  # one object, clipped tighter until it fits
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
S = TypeVar("S", bound=BaseModel)


class DefinitionSummary(BaseModel):
    uuid: str
    title: str
    version: str
    oscal_version: str
    last_modified: str
    source: str = Field(description="'bundled:<file>' for the samples, else the path in the configured directory.")
    origin: Literal["bundled", "directory"]
    component_count: int
    capability_count: int


class DefinitionList(Page):
    definitions: list[DefinitionSummary]
    directory: str | None = Field(description="OSCAL_COMPONENT_DEFINITIONS_DIR, or null when only samples are loaded.")
    problems: list[str] = Field(description=f"Files that were skipped, and why (the first {MAX_PROBLEMS_SHOWN}).")
    problem_count: int


class ComponentSummary(BaseModel):
    uuid: str
    type: str
    title: str
    description: str
    definition_uuid: str
    definition_title: str
    control_count: int = Field(description="How many implemented requirements (controls) the component lists.")


class ComponentList(Page):
    components: list[ComponentSummary]


class CapabilitySummary(BaseModel):
    uuid: str
    name: str
    description: str
    definition_uuid: str
    definition_title: str
    component_count: int


class CapabilityList(Page):
    capabilities: list[CapabilitySummary]


class Match(BaseModel):
    definition_uuid: str
    definition_title: str
    source: str = Field(description="The file (or archive member) the definition was loaded from.")
    oscal: dict[str, Any] = Field(description="The whole OSCAL object (component or capability) as OSCAL JSON.")
    clipped: list[str] = Field(description="Where long texts or arrays of the object were cut, with their full sizes.")
    component_titles: dict[str, str] | None = Field(
        default=None, description="For a capability: title of each component it incorporates, by uuid."
    )


class QueryResult(BaseModel):
    query_type: str
    value: str | None
    definition: str | None
    total: int = Field(description="How many objects matched.")
    offset: int
    next_offset: int | None = Field(description="Pass as offset for the next matches; null when none are left.")
    cut: str | None = Field(description="When the page stopped at its size budget: where, and how to get the rest.")
    matches: list[Match] = Field(
        description="Matches from offset on: at most limit, fewer at max_bytes (at least one, clipped to fit)."
    )


def short(value: object) -> str:
    return clip(str(value), MAX_NAME_CHARS)


def summarize_definition(d: LoadedDefinition, index: ComponentIndex) -> DefinitionSummary:
    meta = d.metadata
    return DefinitionSummary(
        uuid=short(d.uuid),
        title=short(d.title),
        version=short(meta.get("version", "")),
        oscal_version=short(meta.get("oscal-version", "")),
        last_modified=short(meta.get("last-modified", "")),
        source=short(d.source),
        origin=d.origin,
        component_count=len(index.entries("component", d)),
        capability_count=len(index.entries("capability", d)),
    )


def control_count(item: Entry) -> int:
    return sum(len(ci.get("implemented-requirements") or ()) for ci in item.oscal.get("control-implementations") or ())


def summarize_component(c: Entry) -> ComponentSummary:
    return ComponentSummary(
        uuid=short(c.uuid),
        type=short(c.type),
        title=short(c.name),
        description=clip(str(c.oscal.get("description", "")), MAX_TEXT_CHARS),
        definition_uuid=short(c.definition.uuid),
        definition_title=short(c.definition.title),
        control_count=control_count(c),
    )


def summarize_capability(c: Entry) -> CapabilitySummary:
    return CapabilitySummary(
        uuid=short(c.uuid),
        name=short(c.name),
        description=clip(str(c.oscal.get("description", "")), MAX_TEXT_CHARS),
        definition_uuid=short(c.definition.uuid),
        definition_title=short(c.definition.title),
        component_count=len(c.oscal.get("incorporates-components") or ()),
    )


@dataclass(frozen=True)
class Listings:
    """Every summary the list tools return, by the id() of its definition or entry: an index never
    changes once loaded, so they are built once per index (by the warm-up or the first list call)."""

    definitions: dict[int, DefinitionSummary]
    components: dict[int, ComponentSummary]
    capabilities: dict[int, CapabilitySummary]

    @classmethod
    def of(cls, index: ComponentIndex) -> Listings:
        return cls(
            definitions={id(d): summarize_definition(d, index) for d in index.definitions},
            components={id(c): summarize_component(c) for c in index.components},
            capabilities={id(c): summarize_capability(c) for c in index.capabilities},
        )


MAX_INDEXES_KEPT = 8  # one per server in practice; tests build many
_listings: dict[int, tuple[ComponentIndex, Listings]] = {}


def listings(index: ComponentIndex) -> Listings:
    """The summaries of `index`, built on first use (a concurrent first use builds them twice, harmlessly)."""
    kept = _listings.get(id(index))
    if kept is not None and kept[0] is index:
        return kept[1]
    built = Listings.of(index)
    if len(_listings) >= MAX_INDEXES_KEPT:
        _listings.pop(next(iter(_listings)), None)
    _listings[id(index)] = (index, built)
    return built


def match(item: Entry, index: ComponentIndex, budget: int = MAX_MATCH_CHARS) -> Match:
    clipped = bound_to_budget(item.oscal, budget)
    titles = None
    if item.kind == "capability":
        known = index.titles_in(item.definition)
        wanted = {str(c.get("component-uuid")) for c in item.oscal.get("incorporates-components") or ()}
        titles = {uuid: short(known[uuid]) for uuid in sorted(wanted) if uuid in known}
    return Match(
        definition_uuid=short(item.definition.uuid),
        definition_title=short(item.definition.title),
        source=short(item.definition.source),
        oscal=clipped.value,
        clipped=clipped.all_notes(),
        component_titles=titles,
    )


def run_query(
    index: ComponentIndex,
    kind: Kind,
    query_type: str,
    value: str | None,
    definition: str | None,
    limit: int,
    offset: int,
    max_bytes: int = PAGE_BYTES,
) -> QueryResult:
    try:
        scope = index.find_definition(definition) if definition else None
        found = query(index, kind, query_type, value, scope)
    except QueryError as exc:
        raise ToolError(str(exc)) from None
    check_offset(offset, len(found))
    chosen = found[offset : offset + limit]
    room = max_bytes - ENVELOPE_BYTES  # the first match is clipped to fit the page alone
    built = (match(item, index, room if n == 0 else MAX_MATCH_CHARS) for n, item in enumerate(chosen))
    matches, _ = fit_bytes(built, max_bytes)
    after = offset + len(matches)
    return QueryResult(
        query_type=clip(query_type.strip().lower(), 40),
        value=clip(value, 100) if value is not None else None,
        definition=clip(definition, 100) if definition is not None else None,
        total=len(found),
        offset=offset,
        next_offset=after if after < len(found) else None,
        cut=cut_note(len(matches), len(chosen), after if after < len(found) else None, max_bytes),
        matches=matches,
    )


def scoped(index: ComponentIndex, definition: str | None) -> LoadedDefinition | None:
    try:
        return index.find_definition(definition) if definition else None
    except QueryError as exc:
        raise ToolError(str(exc)) from None


LimitParam = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")]
MatchLimitParam = Annotated[int, Field(ge=1, le=100, description="Most matches to return whole, 1 to 100.")]
ValueParam = Annotated[str | None, Field(description="What to look for; required unless query_type is all.")]
DefinitionParam = Annotated[
    str | None,
    Field(
        description="One component definition: its uuid, title or file name (see list_component_definitions); "
        "omit for all of them."
    ),
]


def register(server: MCPServer[Any], context: ToolContext) -> None:
    components = context.components
    directory = context.tools.component_definitions_dir

    async def list_component_definitions(
        limit: LimitParam = DEFAULT_LIMIT, offset: OffsetParam = 0, max_bytes: MaxBytesParam = PAGE_BYTES
    ) -> DefinitionList:
        """List the OSCAL component definitions this server has loaded: the bundled samples and
        those in the operator's OSCAL_COMPONENT_DEFINITIONS_DIR and OSCAL_DOCUMENTS_DIR (JSON,
        YAML and .zip archives), each with uuid, title, version, source file and how many
        components and capabilities it holds. Paginated: pass next_offset as offset for more. Files
        that were skipped (unreadable, too large, unsafe archive, rejected by compliance-trestle's
        model) are listed in problems (the first few, with problem_count). Start here, then call
        list_components or query_component_definition."""
        index = await components.aget()
        summaries = listings(index).definitions
        items, info = budget_page(index.definitions, offset, limit, lambda d: summaries[id(d)], max_bytes)
        return DefinitionList(
            definitions=items,
            **dict(info),
            directory=str(directory) if directory else None,
            problems=problem_lines(index.problems),
            problem_count=len(index.problems),
        )

    async def list_components(
        definition: DefinitionParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> ComponentList:
        """List components (software, services, policies, processes...) across all loaded component
        definitions, or within one, with uuid, type, title, a clipped description and how many
        controls each implements. Paginated: pass next_offset as offset for more. For a whole
        component call query_component_definition with query_type "by_uuid"."""
        index = await components.aget()
        summaries = listings(index).components
        entries = index.entries("component", scoped(index, definition))
        items, info = budget_page(entries, offset, limit, lambda e: summaries[id(e)], max_bytes)
        return ComponentList(components=items, **dict(info))

    async def query_component_definition(
        query_type: Annotated[
            str,
            Field(
                description="all: every component; by_uuid: exact uuid (any case); by_title: title contains value "
                "(any case, exact matches first); by_type: component type such as software, service, policy; "
                "by_property: a property value contains value, or 'name=value' for one property name; search: "
                "every word of value appears in the title, type, description, purpose, property values or link texts.",
                json_schema_extra=enum_extra(COMPONENT_QUERIES),
            ),
        ] = "all",
        value: ValueParam = None,
        definition: DefinitionParam = None,
        limit: MatchLimitParam = 20,
        offset: OffsetParam = 0,
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> QueryResult:
        """Find components in the loaded component definitions and return each whole, as OSCAL
        JSON: type, title, description, purpose, props (with ns, class and group), links (e.g. the
        regions a cloud service is "provided-by"), responsible-roles, protocols and every control
        implementation with its implemented requirements. Query by uuid, title, type, property value
        (e.g. "AWS Key Management Service") or free text (search), or list all; restrict to one
        definition with definition. Very long texts and arrays are cut and the cuts listed in
        clipped; a result stops adding matches at max_bytes (8 KB by default): pass next_offset as
        offset for more."""
        index = await components.aget()
        return run_query(index, "component", query_type, value, definition, limit, offset, max_bytes)

    async def list_capabilities(
        definition: DefinitionParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> CapabilityList:
        """List capabilities: named groupings of components that together provide a function (e.g.
        "audit logging" = a server that logs plus a service that stores the logs), with uuid, name,
        clipped description and how many components each incorporates. Paginated. Call
        query_capabilities or get_capability for a whole capability."""
        index = await components.aget()
        summaries = listings(index).capabilities
        entries = index.entries("capability", scoped(index, definition))
        items, info = budget_page(entries, offset, limit, lambda e: summaries[id(e)], max_bytes)
        return CapabilityList(capabilities=items, **dict(info))

    async def query_capabilities(
        query_type: Annotated[
            str,
            Field(
                description="all; by_uuid: exact uuid (any case); by_name: name contains value (exact first); "
                "by_property: a property value contains value, or 'name=value'; search: every word of value "
                "appears in the name, description, property values or link texts.",
                json_schema_extra=enum_extra(CAPABILITY_QUERIES),
            ),
        ] = "all",
        value: ValueParam = None,
        definition: DefinitionParam = None,
        limit: MatchLimitParam = 20,
        offset: OffsetParam = 0,
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> QueryResult:
        """Find capabilities by uuid, name, property value or free text and return each whole, as
        OSCAL JSON (incorporates-components, control implementations, props, links), with the
        titles of the components it incorporates. Clipped and paginated like
        query_component_definition."""
        index = await components.aget()
        return run_query(index, "capability", query_type, value, definition, limit, offset, max_bytes)

    async def get_capability(
        uuid: Annotated[str, Field(description="The capability's uuid (any case), from list_capabilities.")],
    ) -> Match:
        """Return one capability whole, as OSCAL JSON, with the titles of the components it
        incorporates. Errors when no loaded capability has that uuid; call list_capabilities or
        query_capabilities (by_name) to find one."""
        index = await components.aget()
        found = next((e for e in index.by_uuid.get(uuid.strip().lower(), []) if e.kind == "capability"), None)
        if found is None:
            total = len(index.capabilities)
            raise ToolError(
                f"no capability with uuid {clip(uuid.strip(), 100)!r}; call list_capabilities to see the {total} loaded"
            )
        return match(found, index)

    tools = (
        (list_component_definitions, "list_component_definitions", "List the component definitions"),
        (list_components, "list_components", "List components"),
        (query_component_definition, "query_component_definition", "Query components"),
        (list_capabilities, "list_capabilities", "List capabilities"),
        (query_capabilities, "query_capabilities", "Query capabilities"),
        (get_capability, "get_capability", "Get a capability"),
    )
    for fn, tool_name, title in tools:
        server.add_tool(fn, name=tool_name, title=title, annotations=read_only())
