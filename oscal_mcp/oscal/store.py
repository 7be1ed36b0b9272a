"""The document store: every OSCAL document the server knows, by model, with a full-text index.

Built once (`build_store`, blocking: the tools call it in a worker thread on first use) from what
`store_sources` read: the bundled content (NIST SP 800-53 rev5 and its baselines, sample component
definitions) and, when configured, the documents directory and the component definitions directory
(JSON, YAML, .zip). A document that cannot be read, is not one of the eight OSCAL models or lacks a
uuid or metadata title is skipped and listed in `problems`. Every stored document carries its
schema-level `check` (`store_checks`): an invalid document stays queryable, and says so. The store
is the one source of the documents the server offers: the component index is built from it. It is
immutable once built, so readers need no lock (the index has its own).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oscal_mcp.oscal.documentation import DocPage, DocSection, load_pages
from oscal_mcp.oscal.identifiers import IdIndex, Located
from oscal_mcp.oscal.objects import child, indexed_text, string, without
from oscal_mcp.oscal.queries import Found, objects_of
from oscal_mcp.oscal.sources import SizeLimits
from oscal_mcp.oscal.store_checks import Checker, SchemaCheck
from oscal_mcp.oscal.store_index import SECTIONS, HitPage, Row, SearchIndex
from oscal_mcp.oscal.store_sources import DocumentDirectory, Origin, ParsedSource, load_documents
from oscal_mcp.oscal.text import clip

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
    check: SchemaCheck

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
    component_problems: list[str] = field(default_factory=list)  # the problems about component definitions
    directory: Path | None = None
    index: SearchIndex = field(default_factory=SearchIndex)
    entries: list[tuple[int, Found | None]] = field(default_factory=list)
    ids: IdIndex = field(default_factory=IdIndex)
    entry_objects: list[Located] = field(default_factory=list)  # the object of each index entry
    pages: dict[str, DocPage] = field(default_factory=dict)  # NIST's documentation, by page id
    sections: list[DocSection] = field(default_factory=list)  # in index order

    def of_model(self, model: str | None) -> list[StoredDocument]:
        return [d for d in self.documents if model is None or d.model == model]

    def find(self, raw: str, model: str | None = None) -> StoredDocument:
        """The document of `model` (any when None) that `raw` names; see `find_in`. When `raw` names
        a document of another model instead, the error says which."""
        try:
            return find_in(self.of_model(model), raw, f"{model} document" if model else "document")
        except DocumentNotFoundError as exc:
            other = self._elsewhere(raw, model)
            if other is None:
                raise
            raise DocumentNotFoundError(
                f"{clip(raw.strip(), 100)!r} names a {other.model}, not a {model}: {_label(other)}; {exc}"
            ) from None

    def _elsewhere(self, raw: str, model: str | None) -> StoredDocument | None:
        if model is None:
            return None
        others = [d for d in self.documents if d.model != model]
        try:
            return find_in(others, raw, "document")
        except DocumentNotFoundError:
            return None

    def search(self, text: str, model: str | None, limit: int, offset: int) -> HitPage:
        return self.index.search(text, model, limit, offset)

    def entry(self, number: int) -> tuple[StoredDocument, Found | None]:
        """The document and object of an index entry (None for the document's own entry)."""
        document, found = self.entries[number]
        return self.documents[document], found

    def entry_id(self, number: int) -> str:
        """The canonical id of an index entry's object: what `locate` takes back."""
        return self.ids.canonical(self.entry_objects[number])

    def search_docs(self, text: str, limit: int, offset: int) -> HitPage:
        """Documentation sections matching `text` (entries number `sections`)."""
        return self.index.search(text, None, limit, offset, SECTIONS)

    def locate(self, raw: str) -> list[Located]:
        """The objects an id names (see `oscal_mcp.oscal.identifiers`), best first."""
        return self.ids.locate(raw)


def find_in(candidates: Sequence[StoredDocument], raw: str, what: str) -> StoredDocument:
    """The document `raw` names: its uuid, title, source, file name or file stem (any case), else the
    one document whose title contains `raw` as words. DocumentNotFoundError (naming a few candidates,
    each a `what`) otherwise."""
    key = raw.strip().lower()
    for attribute in (_uuid, _title, _source, _file_name, _stem):
        exact = [d for d in candidates if attribute(d) == key]
        if exact:
            return exact[0]
    words = re.compile(rf"(?<!\w){re.escape(key)}(?!\w)") if key else None
    partial = [d for d in candidates if words is not None and words.search(d.title.lower())]
    if len(partial) == 1:
        return partial[0]
    if partial:
        shown = "; ".join(_label(d) for d in partial[:MAX_KNOWN_SHOWN])
        raise DocumentNotFoundError(f"{clip(raw.strip(), 100)!r} matches {len(partial)} {what}s: {shown}")
    known = "; ".join(_label(d) for d in candidates[:MAX_KNOWN_SHOWN]) or "none"
    raise DocumentNotFoundError(
        f"no {what} matches {clip(raw.strip(), 100)!r}; give a uuid, title or file name. Known: {known}"
    )


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


def build_store(
    directory: Path | None, limits: SizeLimits, component_definitions_dir: Path | None = None
) -> DocumentStore:
    """Load, check and index every document (blocking; about a second for the bundled content):
    the bundled content, then `directory` (``OSCAL_DOCUMENTS_DIR``), then the component definitions
    of `component_definitions_dir` (``OSCAL_COMPONENT_DEFINITIONS_DIR``)."""
    loaded = load_documents(_directories(directory, component_definitions_dir), limits)
    store = DocumentStore(
        problems=[str(p) for p in loaded.problems],
        component_problems=[str(p) for p in loaded.problems if p.components],
        directory=directory,
    )
    checker = Checker()
    for parsed in loaded.documents:
        add_document(store, parsed, checker.check(parsed.model, parsed.body))
    add_documentation(store, load_pages())
    return store


def add_documentation(store: DocumentStore, pages: list[DocPage]) -> None:
    """Index NIST's documentation pages, section by section, next to the documents' objects."""
    for page in pages:
        store.pages[page.id] = page
        store.sections.extend(page.sections)
    rows = [(store.pages[s.page].title, s.heading, s.text, s.page) for s in store.sections]
    store.index.add_sections(rows)


def _directories(documents: Path | None, components: Path | None) -> list[DocumentDirectory]:
    """The directories to read, each file once: a components directory inside the documents
    directory is read with it; a documents directory inside the components directory is skipped
    there."""
    directories = [] if documents is None else [DocumentDirectory(documents, "OSCAL_DOCUMENTS_DIR")]
    if components is not None and (documents is None or not components.is_relative_to(documents)):
        skip = (documents,) if documents is not None and documents.is_relative_to(components) else ()
        directories.append(
            DocumentDirectory(components, "OSCAL_COMPONENT_DEFINITIONS_DIR", only="component-definition", skip=skip)
        )
    return directories


def add_document(store: DocumentStore, parsed: ParsedSource, check: SchemaCheck) -> None:
    number = len(store.documents)
    model = parsed.model
    document = StoredDocument(number, parsed.source, parsed.path, parsed.origin, model, parsed.body, check)
    store.documents.append(document)
    rows = [Row(number, model, "document", document.uuid, document.title, indexed_text(document.metadata))]
    store.entries.append((number, None))
    whole = Located(number, document.uuid, "document", document.uuid, parsed.body)
    store.ids.add(document.uuid, whole)
    store.entry_objects.append(whole)
    store.ids.add_document_objects(number, document.uuid, parsed.body)
    for found in document.objects():
        body = indexed_text(without(found.obj, found.nested | _INDEX_SKIP))
        rows.append(Row(number, model, found.kind, found.ref, found.title, body))
        store.entries.append((number, found))
        store.entry_objects.append(_entry_object(store.ids, document, found))
    store.index.add(rows)


def _entry_object(ids: IdIndex, document: StoredDocument, found: Found) -> Located:
    path_id = f"{found.kind}/{found.ref}"
    located = ids.of_object(document.uuid, found.obj, path_id)
    if located is None:  # no id of its own (an import, a set-parameter, the system characteristics)
        located = Located(document.number, document.uuid, found.kind, path_id, found.obj, path_only=True)
        ids.add_path_object(located)
    return located
