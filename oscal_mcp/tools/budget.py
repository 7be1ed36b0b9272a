"""Response budgets: how much JSON each tool answers with by default, and the page cut that keeps it.

An assistant pays for every byte of a tool result with its context, and usually needs the ids and
titles first and one or two whole objects after. So search and listing pages stop at
`PAGE_BYTES` of JSON by default (``max_bytes`` asks for more, up to `MAX_PAGE_BYTES`), and say
where they stopped and how to get the rest; whole objects are returned only by the tools that were
asked for one object. `TOOL_BUDGETS` is every tool's default answer size: the budget test calls
each registered tool and holds it to its entry (a tool without one fails that test), and the
README's tools table quotes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, Field

KB = 1024
PAGE_BYTES = 8 * KB  # a search or listing page, by default
MIN_PAGE_BYTES = 2 * KB
MAX_PAGE_BYTES = 256 * KB  # what max_bytes may ask for
ENVELOPE_BYTES = 1536  # room kept on a page for its own fields (totals, offsets, the cut note)
OBJECT_BYTES = 64 * KB  # one object asked for by id: whole, unless it is larger than this
M = TypeVar("M", bound=BaseModel)

# Default answer size of every tool, in bytes of JSON (structured content, as sent).
TOOL_BUDGETS: dict[str, int] = {
    # cheap facts and lists of fixed size
    "about": 4 * KB,
    "list_oscal_models": PAGE_BYTES,
    "list_oscal_resources": 16 * KB,  # the whole curated list (about 60 entries); topic narrows it
    # one whole object (or one NIST file) asked for
    "get_oscal_schema": 1024 * KB,  # NIST's schema file unchanged: up to 575 KB of XSD, twice (text + structured)
    "validate_oscal_content": 16 * KB,
    "validate_oscal_file": 16 * KB,
    "get_catalog_control": OBJECT_BYTES,
    "get_capability": OBJECT_BYTES,
    "get_oscal_object": OBJECT_BYTES + 4 * KB,
    "fetch": OBJECT_BYTES + 4 * KB,
    "get_profile": PAGE_BYTES,
    "read_oscal_doc": 16 * KB,  # one documentation page, read on with next_offset
    "search_oscal_docs": PAGE_BYTES,
    # search and listing pages
    "search": PAGE_BYTES,
    "search_oscal": PAGE_BYTES,
    "list_oscal_documents": PAGE_BYTES,
    "list_catalog_groups": PAGE_BYTES,
    "list_catalog_controls": PAGE_BYTES,
    "resolve_profile": PAGE_BYTES,
    "list_ssp_components": PAGE_BYTES,
    "list_ssp_implemented_requirements": PAGE_BYTES,
    "list_assessment_plan_tasks": PAGE_BYTES,
    "list_assessment_plan_activities": PAGE_BYTES,
    "list_assessment_findings": PAGE_BYTES,
    "list_poam_items": PAGE_BYTES,
    "list_control_mappings": PAGE_BYTES,
    "list_component_definitions": PAGE_BYTES,
    "list_components": PAGE_BYTES,
    "list_capabilities": PAGE_BYTES,
    "query_component_definition": PAGE_BYTES,
    "query_capabilities": PAGE_BYTES,
    # NIST's Metaschema as knowledge: pages
    "get_oscal_allowed_values": PAGE_BYTES,
    "list_oscal_constraints": PAGE_BYTES,
    "find_oscal_references": PAGE_BYTES,
    "get_oscal_definition": PAGE_BYTES,
}

# A tool asked for one object by this argument answers it whole, within this budget instead.
ONE_OBJECT_BUDGETS: dict[tuple[str, str], int] = {("resolve_profile", "control_id"): OBJECT_BYTES}


def budget_of(tool: str, arguments: dict[str, object]) -> int:
    """The default answer size of `tool` called with `arguments` (see `ONE_OBJECT_BUDGETS`)."""
    one = [ONE_OBJECT_BUDGETS[tool, name] for name in arguments if (tool, name) in ONE_OBJECT_BUDGETS]
    return max(one) if one else TOOL_BUDGETS[tool]


MaxBytesParam = Annotated[
    int,
    Field(
        ge=MIN_PAGE_BYTES,
        le=MAX_PAGE_BYTES,
        description=f"The most JSON this page may hold, in bytes ({PAGE_BYTES} by default, up to {MAX_PAGE_BYTES}); "
        "a page stops adding items there and says so in cut.",
    ),
]
Detail = Literal["summary", "full"]
DetailParam = Annotated[
    Detail,
    Field(
        description="summary (default): id, kind, title and a short description per item, to choose from; "
        "full: each item's whole OSCAL object too (bounded), for fewer items per page. "
        "get_oscal_object returns one object whole by its id."
    ),
]


def fit_bytes(items: Iterable[M], max_bytes: int) -> tuple[list[M], bool]:
    """The leading `items` whose JSON fits in `max_bytes` less the page's own room (at least one),
    built lazily; and whether an item was left out for the budget."""
    budget = max(max_bytes - ENVELOPE_BYTES, 0)
    kept: list[M] = []
    used = 0
    for item in items:
        used += len(item.model_dump_json()) + 1
        if kept and used > budget:
            return kept, True
        kept.append(item)
    return kept, False


def cut_note(shown: int, asked: int, next_offset: int | None, max_bytes: int) -> str | None:
    """What a page cut by its budget says: where it stopped and how to get the rest; None when the
    page holds every item asked for."""
    if next_offset is None or shown >= asked:
        return None
    more = f"; or raise max_bytes (now {max_bytes}, up to {MAX_PAGE_BYTES})" if max_bytes < MAX_PAGE_BYTES else ""
    return (
        f"page stopped at {max_bytes} bytes after {shown} of the {asked} items asked for: "
        f"pass offset={next_offset} for the next{more}"
    )
