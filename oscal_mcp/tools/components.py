"""Component definition tools: list and query the components and capabilities the server knows.

Sources: the sample component definitions bundled with the server (checked against the content
manifest), plus every ``*.json`` file and every ``*.zip`` archive of JSON files found under
``OSCAL_COMPONENT_DEFINITIONS_DIR``. They are loaded once, at the first call, in a worker thread, and
indexed by uuid, title and type. A file that cannot be read or is not a valid component definition
is skipped and reported (``problems`` of list_component_definitions); it never stops the others.
Every list is paginated and every text clipped, so results stay small.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import anyio
from anyio import to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.content import BundledContentError, bundled_paths, read_bundled
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.loading import (
    AccessError,
    ArchiveLimits,
    DocumentError,
    FilePolicy,
    parse_document,
    read_local_file,
    read_zip_members,
)
from oscal_mcp.tools.models import enum_extra, get_model
from oscal_mcp.tools.settings import ToolSettings
from oscal_mcp.tools.text import clip
from oscal_mcp.tools.validation import model_issues

ROOT_KEY = "component-definition"
MAX_DIRECTORY_FILES = 1000
MAX_PROBLEMS_SHOWN = 20
MAX_PROBLEM_CHARS = 300
MAX_REQUIREMENTS_SHOWN = 50
MAX_IMPLEMENTATIONS_SHOWN = 10
MAX_PROPS_SHOWN = 50
MAX_INCORPORATED_SHOWN = 50
MAX_TEXT_CHARS = 500  # descriptions, purposes
MAX_REQUIREMENT_CHARS = 200  # each implemented requirement's description in a list
MAX_NAME_CHARS = 200  # titles, names, types, ids, sources, property names and values
MAX_RESULT_CHARS = 256_000  # query_component_definition stops adding matches beyond this
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
QUERY_TYPES: tuple[str, ...] = ("all", "by_uuid", "by_title", "by_type")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


# -- the index -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    uuid: str
    control_id: str
    description: str


@dataclass(frozen=True)
class Implementation:
    uuid: str
    source: str
    description: str
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True)
class Component:
    uuid: str
    type: str
    title: str
    description: str
    purpose: str | None
    props: tuple[tuple[str, str], ...]
    implementations: tuple[Implementation, ...]
    definition_uuid: str
    definition_title: str


@dataclass(frozen=True)
class Capability:
    uuid: str
    name: str
    description: str
    incorporates: tuple[tuple[str, str], ...]
    implementations: tuple[Implementation, ...]
    definition_uuid: str
    definition_title: str


@dataclass(frozen=True)
class Definition:
    uuid: str
    title: str
    version: str
    oscal_version: str
    last_modified: str
    source: str
    origin: Literal["bundled", "directory"]
    components: tuple[Component, ...]
    capabilities: tuple[Capability, ...]


@dataclass
class ComponentIndex:
    """The loaded definitions, with components indexed by uuid, exact title and type (all lower-case)
    and capabilities by uuid; `add` keeps the indexes current."""

    definitions: list[Definition] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    by_uuid: dict[str, list[Component]] = field(default_factory=dict)
    by_title: dict[str, list[Component]] = field(default_factory=dict)
    by_type: dict[str, list[Component]] = field(default_factory=dict)
    capabilities_by_uuid: dict[str, list[Capability]] = field(default_factory=dict)

    def add(self, definition: Definition) -> None:
        self.definitions.append(definition)
        for component in definition.components:
            self.by_uuid.setdefault(component.uuid.lower(), []).append(component)
            self.by_title.setdefault(component.title.lower(), []).append(component)
            self.by_type.setdefault(component.type.lower(), []).append(component)
        for capability in definition.capabilities:
            self.capabilities_by_uuid.setdefault(capability.uuid.lower(), []).append(capability)

    def components(self, definition: Definition | None = None) -> list[Component]:
        return [c for d in self._scope(definition) for c in d.components]

    def capabilities(self, definition: Definition | None = None) -> list[Capability]:
        return [c for d in self._scope(definition) for c in d.capabilities]

    def _scope(self, definition: Definition | None) -> list[Definition]:
        return self.definitions if definition is None else [definition]

    def find_definition(self, raw: str) -> Definition:
        """By uuid, title (any case) or source name; ToolError listing a few known ones otherwise."""
        key = raw.strip().lower()
        for attribute in ("uuid", "title", "source", "file"):
            found = [d for d in self.definitions if _definition_key(d, attribute) == key]
            if found:
                return found[0]
        known = "; ".join(f"{clip(d.title, 80)} ({clip(d.uuid, 40)})" for d in self.definitions[:10])
        raise ToolError(
            f"no component definition matches {shown(raw)}; give a uuid, title or file name from "
            f"list_component_definitions. Known: {known or 'none'}"
        )


def shown(raw: str) -> str:
    """A caller's argument, clipped, as echoed in an error message."""
    return repr(clip(raw.strip(), 100))


def _definition_key(definition: Definition, attribute: str) -> str:
    if attribute == "file":
        return definition.source.lower().rsplit("/", 1)[-1]
    value: str = getattr(definition, attribute)
    return value.lower()


def build_index(settings: ToolSettings) -> ComponentIndex:
    """Load the bundled samples and the configured directory into a fresh index (blocking)."""
    index = ComponentIndex()
    for path in bundled_paths("component-definitions/"):
        try:
            _add_document(index, read_bundled(path), f"bundled:{path}", "bundled")
        except BundledContentError as exc:
            index.problems.append(f"bundled:{path}: integrity check failed: {exc}")
    if settings.component_definitions_dir is not None:
        _load_directory(index, settings.component_definitions_dir, settings)
    return index


def _load_directory(index: ComponentIndex, directory: Path, settings: ToolSettings) -> None:
    files = list(_candidate_files(directory))
    if len(files) > MAX_DIRECTORY_FILES:
        index.problems.append(f"{directory}: {len(files)} files found; only the first {MAX_DIRECTORY_FILES} are read")
    limits = ArchiveLimits(max_member_bytes=settings.max_document_bytes, max_total_bytes=settings.max_archive_bytes)
    for path in files[:MAX_DIRECTORY_FILES]:
        shown = path.relative_to(directory).as_posix()
        try:
            _load_file(index, directory, path, shown, settings, limits)
        except AccessError as exc:
            index.problems.append(f"{shown}: skipped: {exc}")
        except Exception as exc:  # one odd file must not hide the others
            index.problems.append(f"{shown}: skipped: unexpected {type(exc).__name__} while reading it")


def _candidate_files(directory: Path) -> Iterator[Path]:
    for folder, subfolders, names in os.walk(directory, followlinks=False):
        subfolders.sort()
        for name in sorted(names):
            if name.lower().endswith((".json", ".zip")):
                yield Path(folder) / name


def _load_file(
    index: ComponentIndex, directory: Path, path: Path, shown: str, settings: ToolSettings, limits: ArchiveLimits
) -> None:
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(directory):
        raise AccessError("it is a symlink that leaves OSCAL_COMPONENT_DEFINITIONS_DIR")
    policy = FilePolicy((directory,))  # the file actually opened must still be inside the directory
    if path.name.lower().endswith(".zip"):
        for member, data in read_zip_members(real, limits, policy=policy):
            _add_document(index, data, f"{shown}!{member}", "directory")
    else:
        data = read_local_file(real, settings.max_document_bytes, shown=shown, policy=policy)
        _add_document(index, data, shown, "directory")


def _add_document(index: ComponentIndex, data: bytes, source: str, origin: Literal["bundled", "directory"]) -> None:
    try:
        document = parse_document(data, "json")
    except DocumentError as exc:
        where = f" (line {exc.line}, column {exc.column})" if exc.line else ""
        index.problems.append(f"{source}: skipped: {exc.message}{where}")
        return
    if not isinstance(document, dict) or ROOT_KEY not in document:
        index.problems.append(f"{source}: skipped: not a component definition (no '{ROOT_KEY}' root key)")
        return
    issues = list(model_issues(get_model(ROOT_KEY), document))
    if issues:
        first = issues[0]
        index.problems.append(
            f"{source}: skipped: {len(issues)} validation error(s), first {first.path}: {first.message}"
        )
        return
    index.add(_definition(document[ROOT_KEY], source, origin))


def _definition(raw: dict[str, Any], source: str, origin: Literal["bundled", "directory"]) -> Definition:
    metadata = raw["metadata"]
    uuid, title = raw["uuid"], metadata["title"]
    return Definition(
        uuid=uuid,
        title=title,
        version=metadata["version"],
        oscal_version=metadata["oscal-version"],
        last_modified=metadata["last-modified"],
        source=source,
        origin=origin,
        components=tuple(_component(c, uuid, title) for c in raw.get("components") or ()),
        capabilities=tuple(_capability(c, uuid, title) for c in raw.get("capabilities") or ()),
    )


def _component(raw: dict[str, Any], definition_uuid: str, definition_title: str) -> Component:
    return Component(
        uuid=raw["uuid"],
        type=raw["type"],
        title=raw["title"],
        description=raw["description"],
        purpose=raw.get("purpose"),
        props=tuple((p["name"], p["value"]) for p in raw.get("props") or ()),
        implementations=_implementations(raw),
        definition_uuid=definition_uuid,
        definition_title=definition_title,
    )


def _capability(raw: dict[str, Any], definition_uuid: str, definition_title: str) -> Capability:
    return Capability(
        uuid=raw["uuid"],
        name=raw["name"],
        description=raw["description"],
        incorporates=tuple((c["component-uuid"], c["description"]) for c in raw.get("incorporates-components") or ()),
        implementations=_implementations(raw),
        definition_uuid=definition_uuid,
        definition_title=definition_title,
    )


def _implementations(raw: dict[str, Any]) -> tuple[Implementation, ...]:
    return tuple(
        Implementation(
            uuid=ci["uuid"],
            source=ci["source"],
            description=ci["description"],
            requirements=tuple(
                Requirement(uuid=r["uuid"], control_id=r["control-id"], description=r["description"])
                for r in ci["implemented-requirements"]
            ),
        )
        for ci in raw.get("control-implementations") or ()
    )


# -- results ---------------------------------------------------------------------------------------


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


class Page(BaseModel):
    total: int
    offset: int
    limit: int
    next_offset: int | None = Field(description="Pass as offset to get the next page; null on the last page.")


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


class RequirementInfo(BaseModel):
    control_id: str
    uuid: str
    description: str


class ImplementationInfo(BaseModel):
    uuid: str
    source: str = Field(description="The catalog or profile the control ids refer to.")
    description: str
    requirement_count: int
    requirements: list[RequirementInfo] = Field(description=f"At most {MAX_REQUIREMENTS_SHOWN}.")


class PropInfo(BaseModel):
    name: str
    value: str


class ComponentDetail(ComponentSummary):
    purpose: str | None
    prop_count: int
    props: list[PropInfo] = Field(description=f"At most {MAX_PROPS_SHOWN}, in document order; names may repeat.")
    control_implementation_count: int
    control_implementations: list[ImplementationInfo] = Field(description=f"At most {MAX_IMPLEMENTATIONS_SHOWN}.")


class ComponentQueryResult(BaseModel):
    query_type: str
    value: str | None
    definition: str | None
    total: int = Field(description="How many components matched.")
    offset: int
    next_offset: int | None = Field(description="Pass as offset for the next matches; null when none are left.")
    matches: list[ComponentDetail] = Field(
        description=f"Matches from offset on: at most limit, and fewer once the result reaches "
        f"{MAX_RESULT_CHARS // 1000} KB (at least one is always returned)."
    )


class CapabilitySummary(BaseModel):
    uuid: str
    name: str
    description: str
    definition_uuid: str
    definition_title: str
    component_count: int


class CapabilityList(Page):
    capabilities: list[CapabilitySummary]


class IncorporatedComponent(BaseModel):
    component_uuid: str
    title: str | None = Field(description="The component's title when it is defined in the same definition.")
    description: str


class CapabilityDetail(CapabilitySummary):
    incorporates_components: list[IncorporatedComponent] = Field(
        description=f"At most {MAX_INCORPORATED_SHOWN}; component_count says how many there are."
    )
    control_implementation_count: int
    control_implementations: list[ImplementationInfo] = Field(description=f"At most {MAX_IMPLEMENTATIONS_SHOWN}.")


def text(value: str) -> str:
    """A long text (description, purpose...) as shown in results."""
    return clip(value, MAX_TEXT_CHARS)


def name(value: str) -> str:
    """A short text (title, name, type, control id, source...) as shown in results and errors."""
    return clip(value, MAX_NAME_CHARS)


def page(items: Sequence[T], offset: int, limit: int) -> tuple[list[T], Page]:
    chunk = list(items[offset : offset + limit])
    after = offset + len(chunk)
    return chunk, Page(total=len(items), offset=offset, limit=limit, next_offset=after if after < len(items) else None)


def summarize_definition(d: Definition) -> DefinitionSummary:
    return DefinitionSummary(
        uuid=name(d.uuid),
        title=name(d.title),
        version=name(d.version),
        oscal_version=name(d.oscal_version),
        last_modified=name(d.last_modified),
        source=name(d.source),
        origin=d.origin,
        component_count=len(d.components),
        capability_count=len(d.capabilities),
    )


def summarize_component(c: Component) -> ComponentSummary:
    return ComponentSummary(
        uuid=name(c.uuid),
        type=name(c.type),
        title=name(c.title),
        description=text(c.description),
        definition_uuid=name(c.definition_uuid),
        definition_title=name(c.definition_title),
        control_count=sum(len(i.requirements) for i in c.implementations),
    )


def detail_component(c: Component) -> ComponentDetail:
    return ComponentDetail(
        **summarize_component(c).model_dump(),
        purpose=text(c.purpose) if c.purpose is not None else None,
        prop_count=len(c.props),
        props=[PropInfo(name=name(n), value=name(v)) for n, v in c.props[:MAX_PROPS_SHOWN]],
        control_implementation_count=len(c.implementations),
        control_implementations=[implementation_info(i) for i in c.implementations[:MAX_IMPLEMENTATIONS_SHOWN]],
    )


def implementation_info(i: Implementation) -> ImplementationInfo:
    return ImplementationInfo(
        uuid=name(i.uuid),
        source=name(i.source),
        description=text(i.description),
        requirement_count=len(i.requirements),
        requirements=[
            RequirementInfo(control_id=name(r.control_id), uuid=name(r.uuid), description=requirement_text(r))
            for r in i.requirements[:MAX_REQUIREMENTS_SHOWN]
        ],
    )


def requirement_text(r: Requirement) -> str:
    return clip(r.description, MAX_REQUIREMENT_CHARS)


def summarize_capability(c: Capability) -> CapabilitySummary:
    return CapabilitySummary(
        uuid=name(c.uuid),
        name=name(c.name),
        description=text(c.description),
        definition_uuid=name(c.definition_uuid),
        definition_title=name(c.definition_title),
        component_count=len(c.incorporates),
    )


def detail_capability(c: Capability, index: ComponentIndex) -> CapabilityDetail:
    titles = {comp.uuid: comp.title for comp in index.components() if comp.definition_uuid == c.definition_uuid}
    return CapabilityDetail(
        **summarize_capability(c).model_dump(),
        incorporates_components=[
            IncorporatedComponent(
                component_uuid=name(uuid), title=name(titles[uuid]) if uuid in titles else None, description=text(role)
            )
            for uuid, role in c.incorporates[:MAX_INCORPORATED_SHOWN]
        ],
        control_implementation_count=len(c.implementations),
        control_implementations=[implementation_info(i) for i in c.implementations[:MAX_IMPLEMENTATIONS_SHOWN]],
    )


def fit(details: Iterable[M], budget: int = MAX_RESULT_CHARS) -> list[M]:
    """The leading `details` that fit in `budget` characters of JSON (at least one); built lazily."""
    kept: list[M] = []
    used = 0
    for detail in details:
        used += len(detail.model_dump_json())
        if kept and used > budget:
            break
        kept.append(detail)
    return kept


def query(index: ComponentIndex, query_type: str, value: str | None, scope: Definition | None) -> list[Component]:
    """The components matching one query, best matches first; ToolError on a bad query."""
    kind = query_type.strip().lower()
    if kind not in QUERY_TYPES:
        raise ToolError(f"unknown query_type {shown(query_type)}; use one of: {', '.join(QUERY_TYPES)}")
    if kind == "all":
        return index.components(scope)
    wanted = (value or "").strip().lower()
    if not wanted:
        raise ToolError(f"query_type {kind!r} needs a value (a {kind.removeprefix('by_')} to look for)")
    if kind == "by_uuid":
        found = index.by_uuid.get(wanted, [])
    elif kind == "by_type":
        found = index.by_type.get(wanted, [])
    else:
        exact = index.by_title.get(wanted, [])
        found = exact + [c for title, cs in index.by_title.items() if wanted in title and title != wanted for c in cs]
    if scope is None:
        return found
    in_scope = {id(c) for c in scope.components}
    return [c for c in found if id(c) in in_scope]


# -- the tools -------------------------------------------------------------------------------------


class IndexHolder:
    """Loads the index once, on first use, in a worker thread; concurrent first calls wait for it."""

    def __init__(self, settings: ToolSettings) -> None:
        self._settings = settings
        self._index: ComponentIndex | None = None
        self._lock: anyio.Lock | None = None

    async def get(self) -> ComponentIndex:
        if self._index is not None:
            return self._index
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._index is None:
                self._index = await to_thread.run_sync(build_index, self._settings)
        return self._index


LimitParam = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")]
OffsetParam = Annotated[int, Field(ge=0, description="How many items to skip (from next_offset).")]
DefinitionParam = Annotated[
    str | None,
    Field(description="Restrict to one component definition: its uuid, title or file name; omit for all."),
]


def register(server: MCPServer[Any], context: ToolContext) -> None:
    holder = IndexHolder(context.settings.tools)
    directory = context.settings.tools.component_definitions_dir

    async def list_component_definitions(limit: LimitParam = DEFAULT_LIMIT, offset: OffsetParam = 0) -> DefinitionList:
        """List the OSCAL component definitions this server has loaded: the bundled samples and
        the files in the operator's OSCAL_COMPONENT_DEFINITIONS_DIR (JSON files and .zip archives),
        each with uuid, title, version, source file and how many components and capabilities it
        holds. Paginated: pass next_offset as offset for more. Files that were skipped (invalid,
        too large, unsafe archive) are listed in problems (the first few, with problem_count).
        Start here, then call list_components or query_component_definition."""
        index = await holder.get()
        items, info = page(index.definitions, offset, limit)
        return DefinitionList(
            definitions=[summarize_definition(d) for d in items],
            **info.model_dump(),
            directory=str(directory) if directory else None,
            problems=[clip(problem, MAX_PROBLEM_CHARS) for problem in index.problems[:MAX_PROBLEMS_SHOWN]],
            problem_count=len(index.problems),
        )

    async def list_components(
        definition: DefinitionParam = None, limit: LimitParam = DEFAULT_LIMIT, offset: OffsetParam = 0
    ) -> ComponentList:
        """List components (software, services, policies, processes...) across all loaded component
        definitions, or within one, with uuid, type, title, a clipped description and how many
        controls each implements. Paginated: pass next_offset as offset for more. For a component's
        control implementations call query_component_definition with query_type "by_uuid"."""
        index = await holder.get()
        scope = index.find_definition(definition) if definition else None
        items, info = page(index.components(scope), offset, limit)
        return ComponentList(components=[summarize_component(c) for c in items], **info.model_dump())

    async def query_component_definition(
        query_type: Annotated[
            str,
            Field(
                description="all: every component; by_uuid: exact uuid; by_title: title contains value "
                "(any case, exact matches first); by_type: component type such as software, service, policy.",
                json_schema_extra=enum_extra(QUERY_TYPES),
            ),
        ] = "all",
        value: Annotated[str | None, Field(description="What to look for; required unless query_type is all.")] = None,
        definition: DefinitionParam = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Most matches to return in detail, 1 to 100.")] = 20,
        offset: OffsetParam = 0,
    ) -> ComponentQueryResult:
        """Find components in the loaded component definitions and return them in detail: type,
        title, description, purpose, properties and each control implementation (source catalog or
        profile, and the implemented requirements: control id and how the component implements it).
        Lists are capped (50 properties, 10 implementations, 50 requirements each) with their
        totals, texts are clipped, and a result stops adding matches at about 256 KB: pass
        next_offset as offset for more. Query by uuid, by title (substring, any case) or by type,
        or list all; restrict to one definition with definition."""
        index = await holder.get()
        scope = index.find_definition(definition) if definition else None
        matches = query(index, query_type, value, scope)
        details = fit(detail_component(c) for c in matches[offset : offset + limit])
        after = offset + len(details)
        return ComponentQueryResult(
            query_type=clip(query_type.strip().lower(), 40),
            value=clip(value, 100) if value is not None else None,
            definition=clip(definition, 100) if definition is not None else None,
            total=len(matches),
            offset=offset,
            next_offset=after if after < len(matches) else None,
            matches=details,
        )

    async def list_capabilities(
        definition: DefinitionParam = None, limit: LimitParam = DEFAULT_LIMIT, offset: OffsetParam = 0
    ) -> CapabilityList:
        """List capabilities: named groupings of components that together provide a function (e.g.
        "audit logging" = a server that logs plus a service that stores the logs), with uuid, name,
        clipped description and how many components each incorporates. Paginated. Call
        get_capability with a uuid for its components and control implementations."""
        index = await holder.get()
        scope = index.find_definition(definition) if definition else None
        items, info = page(index.capabilities(scope), offset, limit)
        return CapabilityList(capabilities=[summarize_capability(c) for c in items], **info.model_dump())

    async def get_capability(
        uuid: Annotated[str, Field(description="The capability's uuid, from list_capabilities.")],
    ) -> CapabilityDetail:
        """Return one capability in detail: name, description, the components it incorporates
        (uuid, title, and the role each plays) and its own control implementations. Errors when no
        loaded capability has that uuid; call list_capabilities to find one."""
        index = await holder.get()
        wanted = uuid.strip().lower()
        found = next(iter(index.capabilities_by_uuid.get(wanted, [])), None)
        if found is None:
            total = len(index.capabilities())
            raise ToolError(f"no capability with uuid {shown(uuid)}; call list_capabilities to see the {total} loaded")
        return detail_capability(found, index)

    tools = (
        (list_component_definitions, "list_component_definitions", "List the component definitions"),
        (list_components, "list_components", "List components"),
        (query_component_definition, "query_component_definition", "Query components"),
        (list_capabilities, "list_capabilities", "List capabilities"),
        (get_capability, "get_capability", "Get a capability"),
    )
    for fn, tool_name, title in tools:
        server.add_tool(fn, name=tool_name, title=title, annotations=read_only())
