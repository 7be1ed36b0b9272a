"""The document store: every OSCAL document the server knows, by model, with a full-text index.

Built once (`build_store`, blocking: the tools call it in a worker thread on first use) from the
bundled content (NIST SP 800-53 rev5 and its baselines, sample component definitions) and, when
configured, the documents directory (JSON, YAML, .zip). A document that cannot be read, is not one
of the eight OSCAL models or lacks a uuid or metadata title is skipped and listed in `problems`.
The store is immutable once built, so readers need no lock (the index has its own).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oscal_mcp.oscal.objects import child, clip, indexed_text, string, without
from oscal_mcp.oscal.queries import Found, objects_of
from oscal_mcp.oscal.store_index import HitPage, Row, SearchIndex
from oscal_mcp.oscal.store_sources import (
    Loaded,
    Origin,
    ParsedSource,
    SourceLimits,
    load_bundled,
    load_directory,
)

# The root keys of the eight OSCAL models (OSCAL 1.0-1.2); the models registry holds their details.
MODEL_ROOT_KEYS: tuple[str, ...] = (
    "catalog",
    "profile",
    "mapping-collection",
    "component-definition",
    "system-security-plan",
    "assessment-plan",
    "assessment-results",
    "plan-of-action-and-milestones",
)
_IGNORED_ROOT_MEMBERS = frozenset({"$schema"})
_INDEX_SKIP = frozenset({"back-matter"})
MAX_KNOWN_SHOWN = 10


class DocumentNotFoundError(LookupError):
    """No document (or more than one) matches what the caller named; the message lists candidates."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class StoredDocument:
    number: int
    source: str
    path: str
    origin: Origin
    model: str
    body: dict[str, Any]

    @property
    def uuid(self) -> str:
        return string(self.body, "uuid")

    @property
    def metadata(self) -> dict[str, Any]:
        return child(self.body, "metadata")

    @property
    def title(self) -> str:
        return string(self.metadata, "title")

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def objects(self, kind: str | None = None) -> Iterator[Found]:
        return objects_of(self.model, self.body, kind)


@dataclass
class DocumentStore:
    documents: list[StoredDocument] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    directory: Path | None = None
    index: SearchIndex = field(default_factory=SearchIndex)
    entries: list[tuple[int, Found | None]] = field(default_factory=list)

    def of_model(self, model: str | None) -> list[StoredDocument]:
        return [d for d in self.documents if model is None or d.model == model]

    def find(self, raw: str, model: str | None = None) -> StoredDocument:
        """The document `raw` names: its uuid, title, source, file name or file stem (any case), else
        the one document whose title contains `raw` as words. DocumentNotFoundError otherwise."""
        candidates = self.of_model(model)
        key = raw.strip().lower()
        for attribute in (_uuid, _title, _source, _file_name, _stem):
            exact = [d for d in candidates if attribute(d) == key]
            if exact:
                return exact[0]
        words = re.compile(rf"(?<!\w){re.escape(key)}(?!\w)") if key else None
        partial = [d for d in candidates if words is not None and words.search(d.title.lower())]
        if len(partial) == 1:
            return partial[0]
        what = f"{model} document" if model else "document"
        if partial:
            shown = "; ".join(_label(d) for d in partial[:MAX_KNOWN_SHOWN])
            raise DocumentNotFoundError(f"{clip(raw.strip(), 100)!r} matches {len(partial)} {what}s: {shown}")
        known = "; ".join(_label(d) for d in candidates[:MAX_KNOWN_SHOWN]) or "none"
        raise DocumentNotFoundError(
            f"no {what} matches {clip(raw.strip(), 100)!r}; give a uuid, title or file name. Known: {known}"
        )

    def search(self, text: str, model: str | None, limit: int, offset: int) -> HitPage:
        return self.index.search(text, model, limit, offset)

    def entry(self, number: int) -> tuple[StoredDocument, Found | None]:
        """The document and object of an index entry (None for the document's own entry)."""
        document, found = self.entries[number]
        return self.documents[document], found


def _uuid(d: StoredDocument) -> str:
    return d.uuid.lower()


def _title(d: StoredDocument) -> str:
    return d.title.strip().lower()


def _source(d: StoredDocument) -> str:
    return d.source.lower()


def _file_name(d: StoredDocument) -> str:
    return d.file_name.lower()


def _stem(d: StoredDocument) -> str:
    return d.file_name.lower().rsplit(".", 1)[0]


def _label(d: StoredDocument) -> str:
    return f"{clip(d.title, 80)} ({d.source})"


def build_store(directory: Path | None, limits: SourceLimits) -> DocumentStore:
    """Load, check and index every document (blocking; seconds for the bundled catalog at most)."""
    loaded = Loaded()
    load_bundled(loaded)
    if directory is not None:
        load_directory(loaded, directory, limits)
    store = DocumentStore(problems=list(loaded.problems), directory=directory)
    for parsed in loaded.documents:
        model, problem = classify(parsed.data)
        if problem is not None or model is None:
            store.problems.append(f"{parsed.source}: skipped: {problem}")
            continue
        add_document(store, parsed, model)
    return store


def classify(data: Any) -> tuple[str | None, str | None]:
    """(model, None) for a document shaped like OSCAL, else (None, why not)."""
    if not isinstance(data, dict):
        return None, "not an OSCAL document (the top level is not a JSON/YAML object)"
    keys = [key for key in data if key not in _IGNORED_ROOT_MEMBERS]
    if len(keys) != 1 or keys[0] not in MODEL_ROOT_KEYS:
        shown = ", ".join(clip(str(key), 40) for key in keys[:5]) or "none"
        return None, f"not an OSCAL document (root keys: {shown}; expected one of {', '.join(MODEL_ROOT_KEYS)})"
    body = data[keys[0]]
    if not isinstance(body, dict) or not string(body, "uuid") or not string(child(body, "metadata"), "title"):
        return None, f"not a usable {keys[0]}: it needs a uuid and a metadata title"
    return keys[0], None


def add_document(store: DocumentStore, parsed: ParsedSource, model: str) -> None:
    number = len(store.documents)
    document = StoredDocument(number, parsed.source, parsed.path, parsed.origin, model, parsed.data[model])
    store.documents.append(document)
    rows = [Row(number, model, "document", document.uuid, document.title, indexed_text(document.metadata))]
    store.entries.append((number, None))
    for found in document.objects():
        body = indexed_text(without(found.obj, found.nested | _INDEX_SKIP))
        rows.append(Row(number, model, found.kind, found.ref, found.title, body))
        store.entries.append((number, found))
    store.index.add(rows)
