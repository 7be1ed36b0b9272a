"""Validating one document through four levels, each reported separately, never raising on content.

1. **well-formed** - the text parses as JSON or YAML (a failure names the line and column);
2. **schema-valid** - NIST's JSON Schema of the release the document states in
   ``metadata.oscal-version`` (`schema_level`);
3. **model-valid** - compliance-trestle's pydantic model of the root object (`model_level`);
4. **constraints-valid** - the constraints of NIST's Metaschema modules of the same release
   (`constraint_level`): allowed values, uniqueness, references by key, patterns and data types,
   cardinalities and expectations, each violation with its constraint id and level.

The model comes from the caller or else from the document's root key (a ``$schema`` key beside it
is tolerated). Each level reports at most ``max_errors`` errors, each with a JSON path such as
``$.catalog.groups[0].controls[3].id``, plus the total count, so a result stays small whatever the
document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from oscal_mcp.oscal.constraint_level import LEVEL as CONSTRAINTS_LEVEL
from oscal_mcp.oscal.constraint_level import constraint_level
from oscal_mcp.oscal.control_sources import ControlIdSource, bundled_control_ids
from oscal_mcp.oscal.documents import DocumentFormat, parse_document
from oscal_mcp.oscal.errors import DocumentError
from oscal_mcp.oscal.issues import LevelResult, ValidationIssue, issue, level_result, skipped
from oscal_mcp.oscal.model_level import check_model
from oscal_mcp.oscal.models import MODEL_NAMES, MODELS, OscalModel, by_root_key, trestle_oscal_version
from oscal_mcp.oscal.schema_level import schema_level
from oscal_mcp.oscal.schemas import choose_version
from oscal_mcp.oscal.text import clip, utf8_size

SCHEMA_KEY = "$schema"
ModelSource = Literal["argument", "root-key"]


class ValidationResult(BaseModel):
    valid: bool = Field(description="True only when every level passed.")
    summary: str
    model: str | None = Field(description="The OSCAL model validated against.")
    model_source: ModelSource | None
    format: DocumentFormat
    source: str = Field(description="'content', or the file path or URL that was read.")
    size_bytes: int
    document_oscal_version: str | None = Field(description="metadata.oscal-version as the document states it.")
    schema_oscal_version: str | None = Field(
        description="The release of NIST's OSCAL schema the schema level used (chosen by document_oscal_version); "
        "null when none applies."
    )
    model_oscal_version: str = Field(description="The OSCAL version of compliance-trestle's models (model level).")
    max_errors_per_level: int
    levels: list[LevelResult]


@dataclass(frozen=True)
class Detection:
    model: OscalModel | None
    problem: str | None = None


def detect_model(document: Any) -> Detection:
    """The model named by the document's root key (``$schema`` ignored), or why there is none."""
    expected = ", ".join(MODEL_NAMES)
    if not isinstance(document, dict):
        kind = "an array" if isinstance(document, list) else f"a {type(document).__name__} value"
        return Detection(None, f"the document is {kind}, not an object with one root key such as 'catalog'")
    keys = [key for key in document if key != SCHEMA_KEY]
    known = [model for key in keys if (model := by_root_key(key)) is not None]
    if len(known) == 1:
        return Detection(known[0])
    if len(known) > 1:
        names = ", ".join(model.name for model in known)
        return Detection(None, f"the document has several OSCAL root keys ({names}); it must have exactly one")
    if not keys:
        return Detection(None, f"the document has no root key; expected one of: {expected}")
    shown = ", ".join(repr(clip(key, 60)) for key in keys[:5])
    return Detection(None, f"no OSCAL root key (found {shown}); expected one of: {expected}")


@dataclass(frozen=True)
class Request:
    data: bytes | str
    fmt: DocumentFormat
    model: OscalModel | None
    source: str
    max_errors: int
    # resolves an SSP's import-profile href to control ids (beyond-NIST check); bundled content by default
    control_ids: ControlIdSource = bundled_control_ids


def validate(request: Request) -> ValidationResult:
    """Validate one document through the four levels; never raises on bad content."""
    size = len(request.data) if isinstance(request.data, bytes) else utf8_size(request.data)
    try:
        document = parse_document(request.data, request.fmt)
    except DocumentError as exc:
        problem = ValidationIssue(path="$", message=clip(exc.message, 300), line=exc.line, column=exc.column)
        levels = [
            level_result("well-formed", [problem], request.max_errors),
            skipped("schema-valid", "the document is not well-formed"),
            skipped("model-valid", "the document is not well-formed"),
            skipped(CONSTRAINTS_LEVEL, "the document is not well-formed"),
        ]
        return _result(request, size, None, None, levels, None, None)
    well_formed = level_result("well-formed", [], request.max_errors)
    model, source, problem_text = _choose_model(request.model, document)
    if model is None:
        levels = [
            well_formed,
            level_result("schema-valid", [issue([], problem_text or "unknown model")], request.max_errors),
            skipped("model-valid", "no OSCAL model: pass model= or give the document an OSCAL root key"),
            skipped(CONSTRAINTS_LEVEL, "no OSCAL model: pass model= or give the document an OSCAL root key"),
        ]
        return _result(request, size, None, None, levels, _stated_version(document, None), None)
    stated = _stated_version(document, model)
    choice = choose_version(stated)
    levels = [
        well_formed,
        schema_level(model, document, request.max_errors, choice),
        level_result("model-valid", check_model(model, document).issues, request.max_errors),
        constraint_level(model, document, request.max_errors, choice, control_ids=request.control_ids),
    ]
    return _result(request, size, model, source, levels, stated, choice.version)


def _choose_model(given: OscalModel | None, document: Any) -> tuple[OscalModel | None, ModelSource | None, str | None]:
    if given is not None:
        return given, "argument", None
    detection = detect_model(document)
    return detection.model, ("root-key" if detection.model else None), detection.problem


def _stated_version(document: Any, model: OscalModel | None) -> str | None:
    candidates = [model] if model else list(MODELS)
    for candidate in candidates:
        inner = document.get(candidate.root_key) if isinstance(document, dict) else None
        metadata = inner.get("metadata") if isinstance(inner, dict) else None
        stated = metadata.get("oscal-version") if isinstance(metadata, dict) else None
        if isinstance(stated, str):
            return clip(stated, 40)
    return None


def _result(
    request: Request,
    size: int,
    model: OscalModel | None,
    source: ModelSource | None,
    levels: list[LevelResult],
    stated: str | None,
    schema_version: str | None,
) -> ValidationResult:
    valid = all(level.status == "passed" for level in levels)
    return ValidationResult(
        valid=valid,
        summary=_summary(valid, model, levels, request.max_errors, schema_version),
        model=model.name if model else None,
        model_source=source,
        format=request.fmt,
        source=request.source,
        size_bytes=size,
        document_oscal_version=stated,
        schema_oscal_version=schema_version,
        model_oscal_version=trestle_oscal_version() if model else "",
        max_errors_per_level=request.max_errors,
        levels=levels,
    )


def _summary(
    valid: bool, model: OscalModel | None, levels: list[LevelResult], max_errors: int, version: str | None
) -> str:
    name = model.name if model else "document"
    if valid:
        warned = sum(level.warning_count for level in levels)
        warnings = f" ({warned} constraint warning(s) listed)" if warned else ""
        return (
            f"valid {name}: well-formed, valid against NIST's OSCAL {version} schema, model-valid, "
            f"and keeps NIST's Metaschema constraints{warnings}"
        )
    failed = [
        f"{level.level}: {level.error_count}{'' if level.error_count_complete else '+'} error(s)"
        for level in levels
        if level.status == "failed"
    ]
    truncated = any(level.errors_truncated for level in levels)
    shown = f"; showing at most {max_errors} per level" if truncated else ""
    return f"not a valid {name}: " + ", ".join(failed) + shown
