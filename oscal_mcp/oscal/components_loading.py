"""Building the component index: the bundled sample definitions plus an operator's directory.

Sources: the samples bundled with the server (checked against the content manifest), and every
``*.json`` file and every JSON member of every ``*.zip`` archive under
``OSCAL_COMPONENT_DEFINITIONS_DIR`` (`sources.directory_documents`). Each document is validated
with trestle's model once; the typed object it yields is what the index keeps. A file that cannot
be read or is not a valid component definition is skipped and reported in `problems`; it never
stops the others. Blocking: build in a worker thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from oscal_mcp.content import BundledContentError, bundled_paths, read_bundled
from oscal_mcp.oscal.components import ComponentIndex, LoadedDefinition, Origin
from oscal_mcp.oscal.errors import DocumentError
from oscal_mcp.oscal.model_level import check_model
from oscal_mcp.oscal.models import get_model
from oscal_mcp.oscal.sources import Skipped, SourceSettings, directory_documents, parse_json_document

ROOT_KEY = "component-definition"
BUNDLED_DIR = "component-definitions/"


class ComponentSettings(SourceSettings, Protocol):
    """What building the index needs; `oscal_mcp.tools.settings.ToolSettings` provides it."""

    @property
    def component_definitions_dir(self) -> Path | None: ...


def build_index(settings: ComponentSettings) -> ComponentIndex:
    """Load the bundled samples and the configured directory into a fresh index (blocking)."""
    index = ComponentIndex()
    for path in bundled_paths(BUNDLED_DIR):
        try:
            add_document(index, read_bundled(path), f"bundled:{path}", "bundled")
        except BundledContentError as exc:
            index.problems.append(f"bundled:{path}: integrity check failed: {exc}")
    directory = settings.component_definitions_dir
    if directory is not None:
        for found in directory_documents(directory, settings):
            if isinstance(found, Skipped):
                index.problems.append(f"{found.source}: skipped: {found.reason}")
            else:
                add_document(index, found.data, found.source, "directory")
    return index


def add_document(index: ComponentIndex, data: bytes, source: str, origin: Origin) -> None:
    """Validate one document and add its typed object to `index`, or record why it was skipped."""
    try:
        document = parse_json_document(data)
    except DocumentError as exc:
        where = f" (line {exc.line}, column {exc.column})" if exc.line else ""
        index.problems.append(f"{source}: skipped: {exc.message}{where}")
        return
    if not isinstance(document, dict) or ROOT_KEY not in document:
        index.problems.append(f"{source}: skipped: not a component definition (no '{ROOT_KEY}' root key)")
        return
    checked = check_model(get_model(ROOT_KEY), document)
    if checked.typed is None:
        first = checked.issues[0]
        index.problems.append(
            f"{source}: skipped: {len(checked.issues)} validation error(s), first {first.path}: {first.message}"
        )
        return
    index.add(LoadedDefinition(checked.typed, source, origin, _metadata(checked.typed)))


def _metadata(typed: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = typed.metadata.model_dump(mode="json", by_alias=True, exclude_none=True)
    return metadata
