"""The schema-valid level: NIST's JSON Schema for the document's OSCAL version, run by jsonschema-rs.

Validity is decided by jsonschema-rs (the 10 MB SP 800-53 catalog in well under a second). The
errors of an invalid document are listed by the same engine, one by one, each with its JSON path;
a failed ``anyOf``/``oneOf`` is replaced by the errors of the branch the value most nearly matched
(`unions.best_branch`). Listing stops after `max_errors` are kept and counting stops once
`LISTING_BUDGET_SECONDS` are spent, which the result reports (the count is then a lower bound).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from oscal_mcp.oscal import schemas
from oscal_mcp.oscal.issues import LevelResult, ValidationIssue, issue, listed_result
from oscal_mcp.oscal.models import OscalModel
from oscal_mcp.oscal.schema_messages import message
from oscal_mcp.oscal.unions import best_branch

LISTING_BUDGET_SECONDS = 5.0
UNION_KEYWORDS = ("anyOf", "oneOf")
SCHEMA_LEVEL_NOTE = (
    "JSON Schema 'format' keywords are not checked at this level (NIST's patterns are, such as the "
    "time zone a date-time needs); the model-valid level checks those values."
)


def schema_level(model: OscalModel, document: Any, max_errors: int, choice: schemas.VersionChoice) -> LevelResult:
    """Validate `document` with the schema release `choice` names; its errors, bounded."""
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
    return _listed(validator, document, max_errors, (model.name, choice.version), heading, choice.note)


def _listed(
    validator: Any, document: Any, max_errors: int, schema: tuple[str, str], heading: str, note: str | None
) -> LevelResult:
    budget = LISTING_BUDGET_SECONDS
    deadline = time.monotonic() + budget
    kept: list[ValidationIssue] = []
    total = 0
    complete = True
    for error in validator.iter_errors(document):
        for leaf in leaf_errors(error):
            total += 1
            if total <= max_errors:
                kept.append(issue(leaf.instance_path, message(leaf, schema)))
        if time.monotonic() > deadline:
            complete = False
            break
    stopped = None
    if not complete:
        stopped = (
            f"Listing stopped after {budget:g} s (the schema level's time budget): error_count counts the errors "
            "found until then. Fix those and validate again."
        )
    return _noted(
        listed_result("schema-valid", kept, total, complete=complete), heading, SCHEMA_LEVEL_NOTE, note, stopped
    )


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
