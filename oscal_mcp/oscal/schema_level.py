"""The schema-valid level: NIST's JSON Schema for the document's OSCAL version, run by jsonschema-rs.

Validity is decided by jsonschema-rs (the 3.2 MB SP 800-53 Rev. 5 catalog in well under a second). The
errors of an invalid document are listed by the same engine, each with its JSON path; a failed
``anyOf``/``oneOf`` is replaced by the errors of the branch the value most nearly matched
(`unions.best_branch`).

jsonschema-rs computes all the errors of one call at once, each with a copy of the value it is
about, so one call on a large document full of errors could take minutes. Listing therefore goes
down the document in pieces: a node is checked with its arrays of definitions (``groups``,
``controls``, ``parts``...) emptied, then each item that is not valid is listed the same way, with
its own definition's validator. Counting stops once `LISTING_BUDGET_SECONDS` are spent, between
pieces, which the result reports (the count is then a lower bound).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from oscal_mcp.oscal import schemas
from oscal_mcp.oscal.issues import LevelResult, ValidationIssue, issue, listed_result
from oscal_mcp.oscal.models import OscalModel, get_model
from oscal_mcp.oscal.schema_messages import message
from oscal_mcp.oscal.unions import best_branch

LISTING_BUDGET_SECONDS = 5.0
UNION_KEYWORDS = ("anyOf", "oneOf")
SCHEMA_LEVEL_NOTE = (
    "JSON Schema 'format' keywords are not checked at this level (NIST's patterns are, such as the "
    "time zone a date-time needs); the model-valid level checks those values."
)


def schema_level(
    model: OscalModel,
    document: Any,
    max_errors: int,
    choice: schemas.VersionChoice,
    budget_seconds: float | None = None,
) -> LevelResult:
    """Validate `document` with the schema release `choice` names; its errors, bounded (listing
    them stops after `budget_seconds`, by default `LISTING_BUDGET_SECONDS`)."""
    if choice.version is None:
        problem = issue([model.root_key, "metadata", "oscal-version"], choice.note or "unsupported OSCAL version")
        return _noted(listed_result("schema-valid", [problem], 1), "Not checked: the OSCAL version is not supported.")
    validator = schemas.validator(model.name, choice.version)
    heading = f"Checked with NIST's OSCAL {choice.version} JSON Schema (jsonschema-rs)."
    try:
        valid = bool(validator.is_valid(document))
    except (ValueError, OverflowError, TypeError):  # NaN/Infinity from YAML, a number beyond 64 bits...
        problem = issue(
            [], "the document holds a value JSON cannot represent (NaN, Infinity or an integer beyond 64 bits)"
        )
        return _noted(listed_result("schema-valid", [problem], 1), heading, choice.note)
    if valid:
        return _noted(listed_result("schema-valid", [], 0), heading, SCHEMA_LEVEL_NOTE, choice.note)
    budget = LISTING_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    listing = _Listing((model.name, choice.version), max_errors, budget)
    return _listed(listing, validator, document, heading, choice.note)


class _Stopped(Exception):
    """The listing budget is spent."""


@dataclass
class _Listing:
    schema: tuple[str, str]  # (model name, version)
    max_errors: int
    budget: float
    deadline: float = field(init=False)
    kept: list[ValidationIssue] = field(default_factory=list)
    total: int = 0

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.budget

    def add(self, path: list[str | int], error: Any) -> None:
        self.total += 1
        if self.total <= self.max_errors:
            self.kept.append(issue(path, message(error, self.schema)))

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Stopped


def _listed(listing: _Listing, validator: Any, document: Any, heading: str, note: str | None) -> LevelResult:
    complete = True
    try:
        _list_document(listing, validator, document)
    except _Stopped:
        complete = False
    stopped = None
    if not complete and listing.total == 0:  # invalid (jsonschema-rs said so), but no error located yet
        listing.total = 1
        listing.kept.append(
            issue([], "the document is not schema-valid; listing stopped before its first error was located")
        )
    if not complete:
        stopped = (
            f"Listing stopped after {listing.budget:g} s (the schema level's time budget): error_count counts "
            "the errors found until then. Fix those and validate again."
        )
    result = listed_result("schema-valid", listing.kept, listing.total, complete=complete)
    return _noted(result, heading, SCHEMA_LEVEL_NOTE, note, stopped)


def _list_document(listing: _Listing, validator: Any, document: Any) -> None:
    name, version = listing.schema
    root_key = get_model(name).root_key
    pointer = schemas.root_pointer(name, version)
    inner = document.get(root_key) if isinstance(document, dict) else None
    if pointer is None or not isinstance(inner, dict):
        _report(listing, validator, document, [], ())
        return
    skeleton, emptied = _emptied(inner, pointer, listing.schema)
    _report(listing, validator, {**document, root_key: skeleton}, [], tuple((root_key, key) for key in emptied))
    _list_items(listing, [root_key], emptied)


def _list_node(listing: _Listing, value: Any, path: list[str | int], pointer: str) -> None:
    """List the errors of one invalid item (with its own definition) and of its invalid items."""
    validator = schemas.definition_validator(*listing.schema, pointer)
    if not isinstance(value, dict):
        _report(listing, validator, value, path, ())
        return
    skeleton, emptied = _emptied(value, pointer, listing.schema)
    _report(listing, validator, skeleton, path, tuple((key,) for key in emptied))
    _list_items(listing, path, emptied)


def _list_items(listing: _Listing, path: list[str | int], emptied: dict[str, tuple[str, list[Any]]]) -> None:
    for key, (pointer, items) in emptied.items():
        validator = schemas.definition_validator(*listing.schema, pointer)
        for index, item in enumerate(items):
            listing.check_time()
            if not validator.is_valid(item):
                _list_node(listing, item, [*path, key, index], pointer)


def _emptied(value: dict[str, Any], pointer: str, schema: tuple[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`value` with its non-empty arrays of definitions emptied, and what was taken out: key -> (pointer, items)."""
    arrays = schemas.array_properties(*schema, pointer)
    emptied = {
        key: (arrays[key], items) for key, items in value.items() if key in arrays and isinstance(items, list) and items
    }
    return ({**value, **{key: [] for key in emptied}} if emptied else value), emptied


def _report(
    listing: _Listing, validator: Any, value: Any, path: list[str | int], emptied: tuple[tuple[str, ...], ...]
) -> None:
    """Add the errors of one call, except the "too short" of the arrays emptied on purpose."""
    for error in validator.iter_errors(value):
        for leaf in leaf_errors(error):
            where = tuple(leaf.instance_path)
            if leaf.kind.name == "minItems" and where in emptied:
                continue
            listing.add([*path, *where], leaf)
    listing.check_time()


def leaf_errors(error: Any) -> Iterator[Any]:
    """`error`, or for a failed union the errors of the branch the value most nearly matched."""
    context = error.kind.as_dict().get("context") if error.kind.name in UNION_KEYWORDS else None
    if not context:
        yield error
        return
    best = best_branch(context, lambda sub: len(sub.instance_path), lambda sub: sub.kind.name == "type")
    for sub in best:
        yield from leaf_errors(sub)


def _noted(result: LevelResult, *notes: str | None) -> LevelResult:
    return result.model_copy(update={"note": " ".join(note for note in notes if note)})
