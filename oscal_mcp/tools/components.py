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
from collections.abc import Iterator, Sequence
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
from oscal_mcp.tools.loading import (
    AccessError,
    ArchiveLimits,
    DocumentError,
    parse_document,
    read_local_file,
    read_zip_members,
)
from oscal_mcp.tools.models import enum_extra, get_model
from oscal_mcp.tools.settings import ToolSettings
from oscal_mcp.tools.validation import model_issues

ROOT_KEY = "component-definition"
MAX_DIRECTORY_FILES = 1000
MAX_PROBLEMS_SHOWN = 20
MAX_REQUIREMENTS_SHOWN = 50
MAX_TEXT_CHARS = 500
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
QUERY_TYPES: tuple[str, ...] = ("all", "by_uuid", "by_title", "by_type")
T = TypeVar("T")


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
        known = "; ".join(f"{d.title} ({d.uuid})" for d in self.definitions[:10])
        raise ToolError(
            f"no component definition matches {raw!r}; give a uuid, title or file name from "
            f"list_component_definitions. Known: {known or 'none'}"
        )


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
    if path.name.lower().endswith(".zip"):
        for member, data in read_zip_members(real, limits):
            _add_document(index, data, f"{shown}!{member}", "directory")
    else:
        _add_document(index, read_local_file(real, settings.max_document_bytes, shown=shown), shown, "directory")


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


class DefinitionList(BaseModel):
    definitions: list[DefinitionSummary]
    total: int
    directory: str | None = Field(description="OSCAL_COMPONENT_DEFINITIONS_DIR, or null when only samples are loaded.")
    problems: list[str] = Field(description="Files that were skipped, and why (first few).")
    problem_count: int


class ComponentSummary(BaseModel):
    uuid: str
    type: str
    title: str
    description: str
    definition_uuid: str
    definition_title: str
    control_count: int = Field(description="How many implemented requirements (controls) the component lists.")


class Page(BaseModel):
    total: int
    offset: int
    limit: int
    next_offset: int | None = Field(description="Pass as offset to get the next page; null on the last page.")


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


class ComponentDetail(ComponentSummary):
    purpose: str | None
    props: dict[str, str]
    control_implementations: list[ImplementationInfo]


class ComponentQueryResult(BaseModel):
    query_type: str
    value: str | None
    definition: str | None
    total: int = Field(description="How many components matched.")
    matches: list[ComponentDetail] = Field(description="The first matches, at most limit.")


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
    incorporates_components: list[IncorporatedComponent]
    control_implementations: list[ImplementationInfo]


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def page(items: Sequence[T], offset: int, limit: int) -> tuple[list[T], Page]:
    chunk = list(items[offset : offset + limit])
    after = offset + len(chunk)
    return chunk, Page(total=len(items), offset=offset, limit=limit, next_offset=after if after < len(items) else None)


def summarize_definition(d: Definition) -> DefinitionSummary:
    shared = {name: getattr(d, name) for name in DefinitionSummary.model_fields if hasattr(d, name)}
    return DefinitionSummary(**shared, component_count=len(d.components), capability_count=len(d.capabilities))


def summarize_component(c: Component) -> ComponentSummary:
    return ComponentSummary(
        uuid=c.uuid,
        type=c.type,
        title=c.title,
        description=clip(c.description),
        definition_uuid=c.definition_uuid,
        definition_title=c.definition_title,
        control_count=sum(len(i.requirements) for i in c.implementations),
    )


def detail_component(c: Component) -> ComponentDetail:
    return ComponentDetail(
        **summarize_component(c).model_dump(),
        purpose=c.purpose,
        props=dict(c.props),
        control_implementations=[implementation_info(i) for i in c.implementations],
    )


def implementation_info(i: Implementation) -> ImplementationInfo:
    return ImplementationInfo(
        uuid=i.uuid,
        source=i.source,
        description=clip(i.description),
        requirement_count=len(i.requirements),
        requirements=[
            RequirementInfo(control_id=r.control_id, uuid=r.uuid, description=clip(r.description))
            for r in i.requirements[:MAX_REQUIREMENTS_SHOWN]
        ],
    )


def summarize_capability(c: Capability) -> CapabilitySummary:
    return CapabilitySummary(
        uuid=c.uuid,
        name=c.name,
        description=clip(c.description),
        definition_uuid=c.definition_uuid,
        definition_title=c.definition_title,
        component_count=len(c.incorporates),
    )


def detail_capability(c: Capability, index: ComponentIndex) -> CapabilityDetail:
    titles = {comp.uuid: comp.title for comp in index.components() if comp.definition_uuid == c.definition_uuid}
    return CapabilityDetail(
        **summarize_capability(c).model_dump(),
        incorporates_components=[
            IncorporatedComponent(component_uuid=uuid, title=titles.get(uuid), description=clip(text))
            for uuid, text in c.incorporates
        ],
        control_implementations=[implementation_info(i) for i in c.implementations],
    )


def query(index: ComponentIndex, query_type: str, value: str | None, scope: Definition | None) -> list[Component]:
    """The components matching one query, best matches first; ToolError on a bad query."""
    kind = query_type.strip().lower()
    if kind not in QUERY_TYPES:
        raise ToolError(f"unknown query_type {query_type!r}; use one of: {', '.join(QUERY_TYPES)}")
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

    async def list_component_definitions() -> DefinitionList:
        """List the OSCAL component definitions this server has loaded: the bundled samples and
        the files in the operator's OSCAL_COMPONENT_DEFINITIONS_DIR (JSON files and .zip archives),
        each with uuid, title, version, source file and how many components and capabilities it
        holds. Files that were skipped (invalid, too large, unsafe archive) are listed in problems.
        Start here, then call list_components or query_component_definition."""
        index = await holder.get()
        return DefinitionList(
            definitions=[summarize_definition(d) for d in index.definitions],
            total=len(index.definitions),
            directory=str(directory) if directory else None,
            problems=index.problems[:MAX_PROBLEMS_SHOWN],
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
    ) -> ComponentQueryResult:
        """Find components in the loaded component definitions and return them in detail: type,
        title, description, purpose, properties and each control implementation (source catalog or
        profile, and the implemented requirements: control id and how the component implements it;
        at most 50 per implementation, with the total). Query by uuid, by title (substring, any
        case) or by type, or list all; restrict to one definition with definition."""
        index = await holder.get()
        scope = index.find_definition(definition) if definition else None
        matches = query(index, query_type, value, scope)
        return ComponentQueryResult(
            query_type=query_type.strip().lower(),
            value=value,
            definition=definition,
            total=len(matches),
            matches=[detail_component(c) for c in matches[:limit]],
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
            raise ToolError(f"no capability with uuid {uuid!r}; call list_capabilities to see the {total} loaded")
        return detail_capability(found, index)

    server.add_tool(
        list_component_definitions, name="list_component_definitions", title="List the component definitions"
    )
    server.add_tool(list_components, name="list_components", title="List components")
    server.add_tool(query_component_definition, name="query_component_definition", title="Query components")
    server.add_tool(list_capabilities, name="list_capabilities", title="List capabilities")
    server.add_tool(get_capability, name="get_capability", title="Get a capability")
