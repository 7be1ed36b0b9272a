"""Each stored document's validity against NIST's schema and NIST's Metaschema constraints,
decided once, when the store is built.

A user who lists the documents expects to see which ones NIST's schema rejects before a query or a
profile resolution trips over them. Deciding validity is cheap (jsonschema-rs: milliseconds for the
3.2 MB SP 800-53 Rev. 5 catalog); listing the errors of an invalid document is not, so each document gets
`PER_DOCUMENT_SECONDS` to list its first `MAX_ERRORS_KEPT` errors and the store build
`TOTAL_SECONDS` in all. A document reached after that is `unchecked`, and says how to check it.
The constraint level (`constraint_level`) then runs within what is left of the document's budget;
its outcome is kept apart (`constraints`), so `status` still means what it always did: NIST's schema.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from oscal_mcp.oscal.constraint_level import constraint_level
from oscal_mcp.oscal.control_sources import bundled_control_ids
from oscal_mcp.oscal.issues import LevelResult
from oscal_mcp.oscal.models import get_model
from oscal_mcp.oscal.schema_level import schema_level
from oscal_mcp.oscal.schemas import choose_version

CheckStatus = Literal["valid", "invalid", "unchecked"]
MAX_ERRORS_KEPT = 3
PER_DOCUMENT_SECONDS = 1.0
TOTAL_SECONDS = 15.0


@dataclass(frozen=True)
class SchemaCheck:
    """`status` of one document against NIST's schema `schema_version` (None when its stated OSCAL
    version is not supported); `errors` are its first errors as ``path: message``."""

    status: CheckStatus
    schema_version: str | None
    error_count: int = 0
    error_count_complete: bool = True
    errors: tuple[str, ...] = ()
    note: str | None = None
    constraints: ConstraintCheck | None = None

    def summary(self) -> str:
        """One line for an error message: why a document is not (known to be) valid."""
        if self.status == "unchecked":
            return self.note or "not checked"
        first = self.errors[0] if self.errors else "no error located"
        more = "" if self.error_count_complete else " or more"
        return f"{self.error_count}{more} schema error(s), first {first}"


@dataclass(frozen=True)
class ConstraintCheck:
    """The document against NIST's Metaschema constraints: `status` (warnings never make it
    invalid), counts, and the first findings as ``path: [constraint id] message``."""

    status: CheckStatus
    error_count: int = 0
    warning_count: int = 0
    findings: tuple[str, ...] = ()
    note: str | None = None

    @classmethod
    def of(cls, result: LevelResult) -> ConstraintCheck:
        if result.status == "skipped":
            return cls("unchecked", note=result.note)
        findings = tuple(
            f"{issue.path}: [{issue.constraint_id}] {issue.message}" for issue in [*result.errors, *result.warnings]
        )
        return cls(
            status="invalid" if result.status == "failed" else "valid",
            error_count=result.error_count,
            warning_count=result.warning_count,
            findings=findings[:MAX_ERRORS_KEPT],
            note=None
            if result.error_count_complete
            else "checking stopped at its time budget: counts are lower bounds",
        )


UNCHECKED = SchemaCheck(
    "unchecked",
    None,
    note="not checked when the store was built (its validation budget was spent); "
    "validate it with validate_oscal_file to see its errors",
)


@dataclass
class Checker:
    """Checks documents one after the other within the store's budget."""

    total_seconds: float = TOTAL_SECONDS
    per_document_seconds: float = PER_DOCUMENT_SECONDS
    spent: float = field(default=0.0, init=False)

    def check(self, model: str, body: dict[str, Any]) -> SchemaCheck:
        if self.spent >= self.total_seconds:
            return UNCHECKED
        started = time.monotonic()
        try:
            return check_document(model, body, self.per_document_seconds)
        finally:
            self.spent += time.monotonic() - started


def check_document(model: str, body: dict[str, Any], budget_seconds: float = PER_DOCUMENT_SECONDS) -> SchemaCheck:
    """`body` (the object under the model's root key) checked with the NIST schema its
    ``metadata.oscal-version`` calls for."""
    oscal_model = get_model(model)
    metadata = body.get("metadata")
    choice = choose_version(metadata.get("oscal-version") if isinstance(metadata, dict) else None)
    started = time.monotonic()
    document = {oscal_model.root_key: body}
    result = schema_level(oscal_model, document, MAX_ERRORS_KEPT, choice, budget_seconds)
    errors = tuple(f"{issue.path}: {issue.message}" for issue in result.errors)
    left = max(budget_seconds - (time.monotonic() - started), 0.05)
    constraints = constraint_level(
        oscal_model, document, MAX_ERRORS_KEPT, choice, control_ids=bundled_control_ids, budget_seconds=left
    )
    return SchemaCheck(
        status="valid" if result.status == "passed" else "invalid",
        schema_version=choice.version,
        error_count=result.error_count,
        error_count_complete=result.error_count_complete,
        errors=errors,
        note=choice.note,
        constraints=ConstraintCheck.of(constraints),
    )
