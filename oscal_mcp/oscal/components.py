"""An index of component definitions over compliance-trestle's typed objects, and its queries.

Each loaded definition keeps its typed ``ComponentDefinition``; each component and capability is an
`Entry` holding its typed object and its OSCAL JSON (dumped once from the typed object, with OSCAL's
hyphenated keys), indexed by uuid (any case), title or name, type, and a lower-case search text made
of its title or name, type, description, purpose, property values and link texts. Queries return
entries; `components_loading` builds the index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from oscal_mcp.oscal.store import DocumentNotFoundError, StoredDocument, find_in
from oscal_mcp.oscal.store_sources import Origin
from oscal_mcp.oscal.text import clip

Kind = Literal["component", "capability"]
COMPONENT_QUERIES: tuple[str, ...] = ("all", "by_uuid", "by_title", "by_type", "by_property", "search")
CAPABILITY_QUERIES: tuple[str, ...] = ("all", "by_uuid", "by_name", "by_property", "search")


class QueryError(ValueError):
    """A query the index cannot answer (unknown query type, missing value, unknown definition)."""


@dataclass(frozen=True, eq=False)
class LoadedDefinition:
    """One component definition: trestle's typed object and the store's document it was made from."""

    typed: Any
    document: StoredDocument

    @property
    def source(self) -> str:
        return self.document.source

    @property
    def origin(self) -> Origin:
        return self.document.origin

    @property
    def metadata(self) -> dict[str, Any]:
        return self.document.metadata

    @property
    def uuid(self) -> str:
        return str(self.typed.uuid)

    @property
    def title(self) -> str:
        return self.document.title


@dataclass(frozen=True, eq=False)
class Entry:
    """A component or a capability: its typed object, its OSCAL JSON and what queries match on."""

    kind: Kind
    typed: Any
    oscal: dict[str, Any]
    definition: LoadedDefinition
    search_text: str

    @property
    def uuid(self) -> str:
        return str(self.oscal.get("uuid", ""))

    @property
    def name(self) -> str:
        """A component's title or a capability's name."""
        return str(self.oscal.get("title" if self.kind == "component" else "name", ""))

    @property
    def type(self) -> str:
        return str(self.oscal.get("type", "capability"))

    @property
    def props(self) -> list[dict[str, Any]]:
        return [p for p in self.oscal.get("props") or () if isinstance(p, dict)]


def entry(kind: Kind, typed: Any, definition: LoadedDefinition) -> Entry:
    oscal: dict[str, Any] = typed.model_dump(mode="json", by_alias=True, exclude_none=True)
    return Entry(kind, typed, oscal, definition, search_text(oscal))


def search_text(oscal: dict[str, Any]) -> str:
    """The lower-case text a free-text query looks in."""
    parts = [str(oscal.get(key, "")) for key in ("title", "name", "type", "description", "purpose")]
    parts += [str(p.get("value", "")) for p in oscal.get("props") or () if isinstance(p, dict)]
    parts += [str(link.get("text", "")) for link in oscal.get("links") or () if isinstance(link, dict)]
    return "\n".join(part for part in parts if part).lower()


@dataclass
class ComponentIndex:
    """The loaded definitions and their components and capabilities, indexed by lower-case uuid."""

    definitions: list[LoadedDefinition] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    components: list[Entry] = field(default_factory=list)
    capabilities: list[Entry] = field(default_factory=list)
    by_uuid: dict[str, list[Entry]] = field(default_factory=dict)

    def add(self, definition: LoadedDefinition) -> None:
        self.definitions.append(definition)
        for typed in definition.typed.components or ():
            self._index(entry("component", typed, definition), self.components)
        for typed in definition.typed.capabilities or ():
            self._index(entry("capability", typed, definition), self.capabilities)

    def _index(self, item: Entry, into: list[Entry]) -> None:
        into.append(item)
        self.by_uuid.setdefault(item.uuid.lower(), []).append(item)

    def entries(self, kind: Kind, scope: LoadedDefinition | None = None) -> list[Entry]:
        items = self.components if kind == "component" else self.capabilities
        return items if scope is None else [item for item in items if item.definition is scope]

    def find_definition(self, raw: str) -> LoadedDefinition:
        """By uuid, title (any case), source or file name (`store.find_in`); QueryError listing a few
        known ones otherwise."""
        try:
            document = find_in([d.document for d in self.definitions], raw, "component definition")
        except DocumentNotFoundError as exc:
            raise QueryError(f"{exc}; call list_component_definitions to see them") from None
        return next(d for d in self.definitions if d.document is document)

    def titles_in(self, definition: LoadedDefinition) -> dict[str, str]:
        """Component uuid -> title within one definition (to name a capability's components)."""
        return {item.uuid: item.name for item in self.entries("component", definition)}


def shown(raw: str) -> str:
    """A caller's argument, clipped, as echoed in an error message."""
    return repr(clip(raw.strip(), 100))


def query(
    index: ComponentIndex, kind: Kind, query_type: str, value: str | None, scope: LoadedDefinition | None
) -> list[Entry]:
    """The entries matching one query, best matches first; QueryError on a bad query."""
    allowed = COMPONENT_QUERIES if kind == "component" else CAPABILITY_QUERIES
    how = query_type.strip().lower()
    if how not in allowed:
        raise QueryError(f"unknown query_type {shown(query_type)}; use one of: {', '.join(allowed)}")
    candidates = index.entries(kind, scope)
    if how == "all":
        return candidates
    wanted = (value or "").strip().lower()
    if not wanted:
        raise QueryError(f"query_type {how!r} needs a value (what to look for)")
    if how == "by_uuid":
        in_scope = {id(item) for item in candidates}
        return [item for item in index.by_uuid.get(wanted, []) if id(item) in in_scope]
    if how == "by_type":
        return [item for item in candidates if item.type.lower() == wanted]
    if how in ("by_title", "by_name"):
        return _exact_first(candidates, wanted, lambda item: [item.name])
    if how == "by_property":
        return _by_property(candidates, wanted)
    return _search(candidates, wanted)


def _exact_first(items: Iterable[Entry], wanted: str, texts: Any) -> list[Entry]:
    """Entries where one of `texts(entry)` equals `wanted` (any case), then those containing it."""
    exact: list[Entry] = []
    partial: list[Entry] = []
    for item in items:
        values = [text.lower() for text in texts(item)]
        if wanted in values:
            exact.append(item)
        elif any(wanted in text for text in values):
            partial.append(item)
    return exact + partial


def _by_property(items: Iterable[Entry], wanted: str) -> list[Entry]:
    """``value`` matches any property's value; ``name=value`` only the properties of that name."""
    name, sep, value = wanted.partition("=")
    if not sep:
        return _exact_first(items, wanted, lambda item: [str(p.get("value", "")) for p in item.props])
    name, value = name.strip(), value.strip()
    return _exact_first(
        items,
        value,
        lambda item: [str(p.get("value", "")) for p in item.props if str(p.get("name", "")).lower() == name],
    )


def _search(items: list[Entry], wanted: str) -> list[Entry]:
    """Entries whose search text holds the whole phrase first, then those holding every word of it."""
    words = wanted.split()
    phrase = [item for item in items if wanted in item.search_text]
    seen = {id(item) for item in phrase}
    rest = [item for item in items if id(item) not in seen and all(word in item.search_text for word in words)]
    named = [item for item in phrase if wanted in item.name.lower()]
    return named + [item for item in phrase if item not in named] + rest
