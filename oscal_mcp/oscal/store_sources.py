"""Where the store's documents come from: the bundled content and the operator's directories.

This is the one place that reads and parses the documents the server offers, through the project's
document-reading functions (`sources.directory_documents`: file root, size and zip rules; JSON/YAML
parsing with line and column). Everything the store, the component index and profile resolution
know was read here, once. A file that cannot be read or parsed, or is not one of the eight OSCAL
models, becomes a `Problem` naming the file; it never stops the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from oscal_mcp.content import BundledContentError, bundled_paths, read_bundled
from oscal_mcp.oscal.documents import guess_format, parse_document
from oscal_mcp.oscal.errors import DocumentError
from oscal_mcp.oscal.files import DOCUMENT_SUFFIXES
from oscal_mcp.oscal.models import MODEL_NAMES, by_root_key
from oscal_mcp.oscal.objects import child, string
from oscal_mcp.oscal.sources import SizeLimits, Skipped, directory_documents
from oscal_mcp.oscal.text import clip

Origin = Literal["bundled", "directory"]
COMPONENT_DEFINITION = "component-definition"
BUNDLED_COMPONENT_DEFINITIONS = "component-definitions/"
BUNDLED_FOLDERS: tuple[str, ...] = ("nist/", BUNDLED_COMPONENT_DEFINITIONS)
_IGNORED_ROOT_MEMBERS = frozenset({"$schema"})


@dataclass(frozen=True)
class DocumentDirectory:
    """An operator's directory: `setting` names it in messages; with `only`, documents of other
    models found there are skipped (``OSCAL_COMPONENT_DEFINITIONS_DIR`` holds component definitions)."""

    path: Path
    setting: str
    only: str | None = None
    skip: tuple[Path, ...] = ()  # folders inside it that another directory reads


@dataclass(frozen=True)
class ParsedSource:
    """One parsed OSCAL document: `source` names it in results ('bundled:<path>', '<path>',
    '<zip>!<member>'); `path` is its ``/``-separated path inside its origin, used to resolve relative
    profile imports; `body` is the object under the model's root key."""

    source: str
    path: str
    origin: Origin
    model: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """A file that was not loaded, and why; `components` when it concerns component definitions."""

    source: str
    reason: str
    components: bool = False

    def __str__(self) -> str:
        return f"{self.source}: skipped: {self.reason}"


@dataclass
class Loaded:
    documents: list[ParsedSource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def load_documents(directories: Sequence[DocumentDirectory], limits: SizeLimits) -> Loaded:
    """The bundled content, then every document of each directory, parsed and classified (blocking)."""
    loaded = Loaded()
    _load_bundled(loaded)
    for directory in directories:
        _load_directory(loaded, directory, limits)
    return loaded


def _load_bundled(loaded: Loaded) -> None:
    for folder in BUNDLED_FOLDERS:
        components = folder == BUNDLED_COMPONENT_DEFINITIONS
        for path in bundled_paths(folder):
            if not path.lower().endswith(DOCUMENT_SUFFIXES):
                continue
            source = f"bundled:{path}"
            try:
                data = read_bundled(path)
            except BundledContentError as exc:
                loaded.problems.append(Problem(source, f"integrity check failed: {exc}", components))
                continue
            _parse_into(loaded, data, source, path, "bundled", None, components=components)


def _load_directory(loaded: Loaded, directory: DocumentDirectory, limits: SizeLimits) -> None:
    components = directory.only == COMPONENT_DEFINITION
    for found in directory_documents(directory.path, limits, directory.skip):
        if isinstance(found, Skipped):
            loaded.problems.append(Problem(found.source, found.reason, components))
        else:
            _parse_into(loaded, found.data, found.source, found.path, "directory", directory, components=components)


def _parse_into(
    loaded: Loaded,
    data: bytes,
    source: str,
    path: str,
    origin: Origin,
    directory: DocumentDirectory | None,
    *,
    components: bool,
) -> None:
    try:
        document = parse_document(data, guess_format(path, data))
    except DocumentError as exc:
        at = f" (line {exc.line}, column {exc.column})" if exc.line else ""
        loaded.problems.append(Problem(source, f"{exc.message}{at}", components))
        return
    model, problem = classify(document)
    root = _root_key(document)
    if directory is not None and directory.only is not None and root is not None and root != directory.only:
        wanted = directory.only.replace("-", " ")
        problem = f"not a {wanted} ({directory.setting} holds {wanted}s only; this is a {root})"
    if problem is not None or model is None:
        loaded.problems.append(Problem(source, problem or "not an OSCAL document", components))
        return
    loaded.documents.append(ParsedSource(source, path, origin, model, document[model]))


def classify(data: Any) -> tuple[str | None, str | None]:
    """(model, None) for a document shaped like OSCAL, else (None, why not)."""
    if not isinstance(data, dict):
        return None, "not an OSCAL document (the top level is not a JSON/YAML object)"
    root = _root_key(data)
    if root is None:
        keys = [key for key in data if key not in _IGNORED_ROOT_MEMBERS]
        shown = ", ".join(clip(str(key), 40) for key in keys[:5]) or "none"
        return None, f"not an OSCAL document (root keys: {shown}; expected one of {', '.join(MODEL_NAMES)})"
    body = data[root]
    if not isinstance(body, dict) or not string(body, "uuid") or not string(child(body, "metadata"), "title"):
        return None, f"not a usable {root}: it needs a uuid and a metadata title"
    return root, None


def _root_key(data: Any) -> str | None:
    """The model whose root key is the document's one root member, if any."""
    if not isinstance(data, dict):
        return None
    keys = [key for key in data if key not in _IGNORED_ROOT_MEMBERS]
    model = by_root_key(keys[0]) if len(keys) == 1 and isinstance(keys[0], str) else None
    return None if model is None else model.root_key
