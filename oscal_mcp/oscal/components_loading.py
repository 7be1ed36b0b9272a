"""Building the component index from the document store's component definitions.

The store (`store.build_store`) is the one reader of the documents the server offers: the bundled
samples and the component definitions of ``OSCAL_COMPONENT_DEFINITIONS_DIR`` and
``OSCAL_DOCUMENTS_DIR``. Here each of its component definitions is validated with trestle's model
once; the typed object it yields is what the index keeps. One that is not valid at the model level
is skipped and reported in `problems` (next to the files the store could not read), never fatal.
"""

from __future__ import annotations

from oscal_mcp.oscal.components import ComponentIndex, LoadedDefinition
from oscal_mcp.oscal.model_level import check_model
from oscal_mcp.oscal.models import get_model
from oscal_mcp.oscal.store import DocumentStore, StoredDocument
from oscal_mcp.oscal.store_sources import COMPONENT_DEFINITION


def build_index(store: DocumentStore) -> ComponentIndex:
    """The component definitions of `store`, typed and indexed (blocking: trestle validates each)."""
    index = ComponentIndex(problems=list(store.component_problems))
    for document in store.of_model(COMPONENT_DEFINITION):
        add_document(index, document)
    return index


def add_document(index: ComponentIndex, document: StoredDocument) -> None:
    """Validate one definition and add its typed object to `index`, or record why it was skipped."""
    model = get_model(COMPONENT_DEFINITION)
    checked = check_model(model, {model.root_key: document.body})
    if checked.typed is None:
        first = checked.issues[0]
        errors = f"{len(checked.issues)} validation error(s), first {first.path}: {first.message}"
        index.problems.append(f"{document.source}: skipped: {errors}")
        return
    index.add(LoadedDefinition(checked.typed, document))
