"""The constraints-valid level: the constraints of NIST's Metaschema modules (`metaschema/`).

Runs after the schema and model levels with the modules of the release the schema level chose
(`schemas.choose_version`, from ``metadata.oscal-version``). A violation at level ``ERROR`` (or
``CRITICAL``) fails the level; ``WARNING`` and ``INFO`` ones are listed in ``warnings`` and leave
the document valid. Each names the constraint's id, so a user can look the rule up in NIST's
modules. Evaluation stops after `CONSTRAINT_BUDGET_SECONDS`; the result then says its count is a
lower bound. Beyond NIST's rules, `beyond.py` adds warnings for references the modules leave open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Literal

from oscal_mcp.oscal.issues import LevelResult, ValidationIssue, issue, skipped

if TYPE_CHECKING:
    from oscal_mcp.oscal.metaschema.beyond import ControlIds
    from oscal_mcp.oscal.metaschema.checking import Report, Violation
    from oscal_mcp.oscal.models import OscalModel
    from oscal_mcp.oscal.schemas import VersionChoice

LEVEL: Final[Literal["constraints-valid"]] = "constraints-valid"
CONSTRAINT_BUDGET_SECONDS = 5.0
NOTE = (
    "Checked with the constraints of NIST's OSCAL {version} Metaschema modules (allowed values, "
    "uniqueness, indexes and references, patterns and data types, cardinalities, expectations)."
)


def constraint_level(
    model: OscalModel,
    document: Any,
    max_errors: int,
    choice: VersionChoice,
    *,
    control_ids: Callable[[str], ControlIds | None] | None = None,
    budget_seconds: float = CONSTRAINT_BUDGET_SECONDS,
) -> LevelResult:
    """NIST's constraints on `document`, bounded; `control_ids` resolves an SSP's imported profile
    or catalog to its control ids for the beyond-NIST checks (None: not checked)."""
    # The evaluator (the modules' parser, Metapath) loads at the first check, not with the modules
    # that name this level: the server's start-up imports those (bench/README.md, cold paths).
    from oscal_mcp.oscal.metaschema.beyond import beyond_nist
    from oscal_mcp.oscal.metaschema.checking import check
    from oscal_mcp.oscal.metaschema.registry import load_metaschema, metaschema_versions

    if choice.version is None or choice.version not in metaschema_versions():
        return skipped(LEVEL, "Not checked: no Metaschema modules are bundled for the document's OSCAL version.")
    report = check(document, load_metaschema(choice.version), max_errors, budget_seconds)
    if report is None:
        return skipped(LEVEL, f"Not checked: the document has no {model.root_key!r} root object.")
    for violation in beyond_nist(document, control_ids):
        report.add(violation)
    return _result(report, choice.version)


def _issue(violation: Violation) -> ValidationIssue:
    found = issue(violation.path, violation.message)
    return found.model_copy(update={"constraint_id": violation.constraint_id, "severity": violation.level})


def _result(report: Report, version: str) -> LevelResult:
    notes = [NOTE.format(version=version), *report.notes]
    if not report.complete:
        notes.append(
            f"Checking stopped after {CONSTRAINT_BUDGET_SECONDS:g} s (the level's time budget): "
            "the counts are lower bounds."
        )
    return LevelResult(
        level=LEVEL,
        status="failed" if report.error_count else "passed",
        error_count=report.error_count,
        errors=[_issue(v) for v in report.errors],
        errors_truncated=report.error_count > len(report.errors),
        error_count_complete=report.complete,
        note=" ".join(notes),
        warning_count=report.warning_count,
        warnings=[_issue(v) for v in report.warnings],
    )
