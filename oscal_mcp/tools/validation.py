"""`validate_oscal_content` and `validate_oscal_file`: three levels of validation, bounded results.

Levels, each reported separately:

1. **well-formed** - the text parses as JSON or YAML (a failure names the line and column);
2. **schema-valid** - the document satisfies the model's JSON Schema (`oscal_mcp.tools.schemas`),
   checked with jsonschema-rs when installed, errors listed with ``jsonschema``
   (`oscal_mcp.tools.schema_errors`: bounded in time, never quoting the document's values);
3. **model-valid** - compliance-trestle's pydantic model of the root object accepts it.

The model comes from the ``model`` argument or else from the document's root key (a ``$schema``
key beside it is tolerated). Each level reports at most ``OSCAL_MAX_ERRORS`` errors, each with a JSON
path such as ``$.catalog.groups[0].controls[3].id``, plus the total count, so a result stays small
whatever the document. Bad content is a result, never an exception; a bad request (unknown model,
file outside the roots...) is a ToolError.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import anyio
from anyio import to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.tools import schema_errors
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.loading import (
    DOCUMENT_SUFFIXES,
    FORMATS,
    AccessError,
    DocumentError,
    DocumentFormat,
    FilePolicy,
    fetch_remote,
    guess_format,
    is_remote,
    parse_document,
    read_local_file,
    resolve_local,
)
from oscal_mcp.tools.models import (
    MODEL_NAMES,
    MODELS,
    OscalModel,
    UnknownModelError,
    by_root_key,
    enum_extra,
    get_model,
    oscal_version,
    trestle_class,
)
from oscal_mcp.tools.schemas import fast_validator, fast_validator_map, property_names, schema_validator
from oscal_mcp.tools.settings import ToolSettings
from oscal_mcp.tools.text import clip, utf8_size

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaError
    from pydantic_core import ErrorDetails

Level = Literal["well-formed", "schema-valid", "model-valid"]
Status = Literal["passed", "failed", "skipped"]
MAX_MESSAGE_CHARS = 300
MAX_PATH_CHARS = 300
SCHEMA_KEY = "$schema"
SCHEMA_LEVEL_NOTE = (
    "JSON Schema 'format' keywords (date-time, uri, email...) are not checked at this level; "
    "the model-valid level checks those values."
)
T = TypeVar("T")


class ValidationIssue(BaseModel):
    path: str = Field(description="JSON path of the offending value, e.g. $.catalog.groups[0].controls[3].id")
    message: str
    line: int | None = Field(default=None, description="1-based line, for well-formedness errors.")
    column: int | None = Field(default=None, description="1-based column, for well-formedness errors.")


class LevelResult(BaseModel):
    level: Level
    status: Status
    error_count: int = Field(description="How many errors this level found in total.")
    errors: list[ValidationIssue] = Field(description="The first errors, at most max_errors_per_level.")
    errors_truncated: bool = Field(description="True when error_count is larger than the errors listed.")
    error_count_complete: bool = Field(
        default=True,
        description="False when listing stopped at the level's time budget: error_count is then a lower bound.",
    )
    note: str | None = Field(default=None, description="Why the level was skipped, or what it checked.")


class ValidationResult(BaseModel):
    valid: bool = Field(description="True only when every level passed.")
    summary: str
    model: str | None = Field(description="The OSCAL model validated against.")
    model_source: Literal["argument", "root-key"] | None
    format: DocumentFormat
    source: str = Field(description="'content', or the file path or URL that was read.")
    size_bytes: int
    document_oscal_version: str | None = Field(description="metadata.oscal-version as the document states it.")
    validator_oscal_version: str = Field(description="The OSCAL version of the schema and models used.")
    max_errors_per_level: int
    levels: list[LevelResult]


# -- capping and paths -----------------------------------------------------------------------------


def cap(items: Iterable[T], limit: int) -> tuple[list[T], int]:
    """The first `limit` items and the total count; consumes `items`."""
    kept: list[T] = []
    total = 0
    for item in items:
        total += 1
        if total <= limit:
            kept.append(item)
    return kept, total


_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")


def json_path(parts: Iterable[str | int]) -> str:
    """``$`` followed by ``.key``, ``[index]`` or ``['odd key']`` for each part."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            path += f".{part}"
        else:
            path += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return clip(path, MAX_PATH_CHARS)


def level_result(level: Level, issues: Iterable[ValidationIssue], max_errors: int) -> LevelResult:
    kept, total = cap(issues, max_errors)
    return listed_result(level, kept, total)


def listed_result(level: Level, kept: list[ValidationIssue], total: int, *, complete: bool = True) -> LevelResult:
    return LevelResult(
        level=level,
        status="failed" if total else "passed",
        error_count=total,
        errors=kept,
        errors_truncated=total > len(kept),
        error_count_complete=complete,
    )


def skipped(level: Level, why: str) -> LevelResult:
    return LevelResult(level=level, status="skipped", error_count=0, errors=[], errors_truncated=False, note=why)


# -- model detection -------------------------------------------------------------------------------


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


# -- the levels ------------------------------------------------------------------------------------


def schema_issue(error: SchemaError) -> ValidationIssue:
    """One schema error as an issue: its path, and a message that never quotes the document's values."""
    return ValidationIssue(
        path=json_path(error.absolute_path), message=clip(schema_errors.message(error), MAX_MESSAGE_CHARS)
    )


def schema_level(model: OscalModel, document: Any, max_errors: int) -> LevelResult:
    """The schema-valid level: valid or not from jsonschema-rs when installed (else jsonschema), then
    the errors of an invalid document listed by jsonschema within `LISTING_BUDGET_SECONDS`."""
    fast = fast_validator(model.name)
    verdict = _fast_verdict(fast, document) if fast is not None else None
    engine = "jsonschema-rs" if verdict is not None else "jsonschema"
    pruner = fast_validator_map(model.name) if fast is not None and not verdict else None
    if verdict is None:
        verdict = schema_errors.is_valid(schema_validator(model.name), document, pruner=pruner)
    if verdict:
        note = f"Checked with {engine}. {SCHEMA_LEVEL_NOTE}"
        return listed_result("schema-valid", [], 0).model_copy(update={"note": note})
    return _schema_errors(model, document, max_errors, pruner, engine)


def _schema_errors(model: OscalModel, document: Any, max_errors: int, pruner: Any, engine: str) -> LevelResult:
    """The level of a document known to be invalid: its errors, listed within the time budget."""
    budget = schema_errors.LISTING_BUDGET_SECONDS
    listed = schema_errors.list_errors(
        schema_validator(model.name), document, schema_issue, max_errors, pruner=pruner, budget=budget
    )
    items, total = listed.items, listed.total
    if not listed.complete and total == 0:
        message = "the document is not schema-valid; listing stopped before its first error was located"
        items, total = [ValidationIssue(path="$", message=message)], 1
    result = listed_result("schema-valid", items, total, complete=listed.complete)
    return result.model_copy(update={"note": _schema_note(engine, listed.complete, budget, pruner is not None)})


def _schema_note(engine: str, complete: bool, budget: float, fast: bool) -> str:
    listed = "" if engine == "jsonschema" else "; errors listed with jsonschema"
    note = f"Checked with {engine}{listed}. {SCHEMA_LEVEL_NOTE}"
    if complete:
        return note
    hint = "" if fast else " Installing oscal-mcp[fast] (jsonschema-rs) makes listing faster."
    return (
        f"{note} Listing stopped after {budget:g} s (the schema level's time budget): error_count counts "
        f"the errors found until then. Fix those and validate again.{hint}"
    )


def _fast_verdict(fast: Any, document: Any) -> bool | None:
    try:
        return bool(fast.is_valid(document))
    except Exception:  # a value jsonschema-rs cannot convert (e.g. NaN from YAML): let jsonschema decide
        return None


def model_issues(model: OscalModel, document: Any) -> Iterator[ValidationIssue]:
    from pydantic import ValidationError

    if not isinstance(document, dict):
        yield ValidationIssue(path="$", message=f"the document is not an object with the root key {model.root_key!r}")
        return
    if model.root_key not in document:
        yield ValidationIssue(path="$", message=f"the root key {model.root_key!r} is missing")
        return
    try:
        trestle_class(model.name).model_validate(document[model.root_key])
    except ValidationError as exc:
        details = exc.errors(include_url=False, include_input=False, include_context=False)
        keys = property_names(model.name)
        for detail in prune_union_branches(details, keys):
            parts = [model.root_key, *(p for i, p in enumerate(detail["loc"]) if not _is_tag(detail, i, keys))]
            yield ValidationIssue(path=json_path(parts), message=clip(detail["msg"], MAX_MESSAGE_CHARS))
    except Exception as exc:  # trestle validators may raise their own errors on odd content
        message = f"compliance-trestle rejected the document: {type(exc).__name__}: {exc}"
        yield ValidationIssue(path=json_path([model.root_key]), message=clip(message, MAX_MESSAGE_CHARS))


def prune_union_branches(details: Sequence[ErrorDetails], keys: frozenset[str]) -> list[ErrorDetails]:
    """Keep, for each union, only the errors of the branch the value most nearly matched.

    Pydantic reports every branch of a union (``Group1 | Group2``) with the branch's class name in the
    location; a location part that is neither an index nor an OSCAL key is such a branch tag. As for
    the schema level, the branch whose errors go deepest (fewest errors on a tie) is kept.
    """
    indexed = list(enumerate(details))
    kept = _prune(indexed, 0, keys)
    return [detail for _, detail in sorted(kept, key=lambda pair: pair[0])]


def _prune(items: list[tuple[int, ErrorDetails]], start: int, keys: frozenset[str]) -> list[tuple[int, ErrorDetails]]:
    plain: list[tuple[int, ErrorDetails]] = []
    unions: dict[tuple[Any, ...], dict[Any, list[tuple[int, ErrorDetails]]]] = {}
    for item in items:
        loc = item[1]["loc"]
        tag = next((i for i in range(start, len(loc)) if _is_tag(item[1], i, keys)), None)
        if tag is None:
            plain.append(item)
        else:
            unions.setdefault(tuple(loc[:tag]), {}).setdefault(loc[tag], []).append(item)
    for prefix, branches in unions.items():
        best = max(branches.values(), key=lambda group: (max(len(d["loc"]) for _, d in group), -len(group)))
        plain.extend(_prune(best, len(prefix) + 1, keys))
    return plain


def _is_tag(detail: ErrorDetails, index: int, keys: frozenset[str]) -> bool:
    """Whether ``loc[index]`` names a union branch rather than a key or an index.

    The last part of an ``extra_forbidden`` location is the unexpected key itself, never a tag.
    """
    loc = detail["loc"]
    part = loc[index]
    if isinstance(part, int) or part in keys:
        return False
    return not (detail["type"] == "extra_forbidden" and index == len(loc) - 1)


# -- the whole validation --------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    data: bytes | str
    fmt: DocumentFormat
    model: OscalModel | None
    source: str
    max_errors: int


def validate(request: Request) -> ValidationResult:
    """Validate one document through the three levels; never raises on bad content."""
    size = len(request.data) if isinstance(request.data, bytes) else utf8_size(request.data)
    try:
        document = parse_document(request.data, request.fmt)
    except DocumentError as exc:
        issue = ValidationIssue(
            path="$", message=clip(exc.message, MAX_MESSAGE_CHARS), line=exc.line, column=exc.column
        )
        levels = [
            level_result("well-formed", [issue], request.max_errors),
            skipped("schema-valid", "the document is not well-formed"),
            skipped("model-valid", "the document is not well-formed"),
        ]
        return _result(request, size, None, None, levels, None)
    well_formed = level_result("well-formed", [], request.max_errors)
    model, source, problem = _choose_model(request.model, document)
    if model is None:
        issue = ValidationIssue(path="$", message=problem or "unknown model")
        levels = [
            well_formed,
            level_result("schema-valid", [issue], request.max_errors),
            skipped("model-valid", "no OSCAL model: pass model= or give the document an OSCAL root key"),
        ]
        return _result(request, size, None, None, levels, _stated_version(document, None))
    levels = [
        well_formed,
        schema_level(model, document, request.max_errors),
        level_result("model-valid", model_issues(model, document), request.max_errors),
    ]
    return _result(request, size, model, source, levels, _stated_version(document, model))


def _choose_model(
    given: OscalModel | None, document: Any
) -> tuple[OscalModel | None, Literal["argument", "root-key"] | None, str | None]:
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
    source: Literal["argument", "root-key"] | None,
    levels: list[LevelResult],
    stated: str | None,
) -> ValidationResult:
    valid = all(level.status == "passed" for level in levels)
    return ValidationResult(
        valid=valid,
        summary=_summary(valid, model, levels, request.max_errors),
        model=model.name if model else None,
        model_source=source,
        format=request.fmt,
        source=request.source,
        size_bytes=size,
        document_oscal_version=stated,
        validator_oscal_version=oscal_version(),
        max_errors_per_level=request.max_errors,
        levels=levels,
    )


def _summary(valid: bool, model: OscalModel | None, levels: list[LevelResult], max_errors: int) -> str:
    name = model.name if model else "document"
    if valid:
        return f"valid {name}: well-formed, schema-valid and model-valid (OSCAL {oscal_version()})"
    failed = [
        f"{level.level}: {level.error_count}{'' if level.error_count_complete else '+'} error(s)"
        for level in levels
        if level.status == "failed"
    ]
    truncated = any(level.errors_truncated for level in levels)
    shown = f"; showing at most {max_errors} per level" if truncated else ""
    return f"not a valid {name}: " + ", ".join(failed) + shown


# -- the tools -------------------------------------------------------------------------------------


def requested_model(raw: str | None) -> OscalModel | None:
    if raw is None or not raw.strip():
        return None
    try:
        return get_model(raw)
    except UnknownModelError as exc:
        raise ToolError(str(exc)) from None


def requested_format(raw: str) -> DocumentFormat:
    fmt = raw.strip().lower()
    if fmt == "yml":
        return "yaml"
    if fmt not in FORMATS:
        raise ToolError(f"format {raw!r} is not supported; use one of: {', '.join(FORMATS)} (XML is not supported)")
    return fmt


async def read_source(context: ToolContext, raw: str) -> tuple[bytes, str]:
    """The bytes behind a local path or (when allowed) an http(s) URI, and how to name it."""
    tools = context.settings.tools
    text = raw.strip()
    if text.lower().startswith("file://"):
        text = text[len("file://") :]
    try:
        if is_remote(text):
            if not tools.allow_remote_uris:
                raise AccessError("remote URIs are disabled on this server (OSCAL_ALLOW_REMOTE_URIS=false)")
            return await fetch_remote(
                text, timeout_seconds=tools.remote_timeout_seconds, max_bytes=tools.max_document_bytes
            ), text
        return await to_thread.run_sync(read_local, text, tools)
    except AccessError as exc:
        raise ToolError(str(exc)) from None


def document_policy(tools: ToolSettings) -> FilePolicy:
    """validate_oscal_file reads JSON and YAML files in the roots, never hidden ones (.env, .git/...)."""
    return FilePolicy(tools.file_roots, DOCUMENT_SUFFIXES, hidden=False)


def read_local(text: str, tools: ToolSettings) -> tuple[bytes, str]:
    """Resolve, check and read a local document (blocking: realpath and reads belong in a worker thread)."""
    policy = document_policy(tools)
    path = resolve_local(text, policy)
    return read_local_file(path, tools.max_document_bytes, shown=text, policy=policy), str(path)


ModelParam = Annotated[
    str | None,
    Field(
        description="The OSCAL model to validate against; omit to detect it from the root key.",
        json_schema_extra=enum_extra(MODEL_NAMES, optional=True),
    ),
]


def register(server: MCPServer[Any], context: ToolContext) -> None:
    tools = context.settings.tools
    limiter = anyio.CapacityLimiter(2)  # each large validation holds ~10x its size in memory

    async def run(request: Request) -> ValidationResult:
        return await to_thread.run_sync(validate, request, limiter=limiter)

    async def validate_oscal_content(
        content: Annotated[str, Field(description="The whole OSCAL document as JSON or YAML text.")],
        model: ModelParam = None,
        format: Annotated[
            str, Field(description="The syntax of content.", json_schema_extra=enum_extra(FORMATS))
        ] = "json",
    ) -> ValidationResult:
        """Validate an OSCAL document given as text (JSON by default, or YAML) and report three
        levels separately: well-formed (parses; errors give line and column), schema-valid (the
        model's JSON Schema) and model-valid (compliance-trestle's models). The model is detected
        from the root key (e.g. "catalog", "system-security-plan") unless you pass model. Each
        level lists at most a fixed number of errors, each with a JSON path like
        $.catalog.groups[0].controls[3].id, plus the total error_count. Invalid content is a normal
        result with valid=false, not an error: fix the listed paths and validate again. For a file
        the server can read, call validate_oscal_file instead of pasting it."""
        chosen, fmt = requested_model(model), requested_format(format)
        size = utf8_size(content)
        if size > tools.max_document_bytes:
            raise ToolError(
                f"content is {size} bytes in UTF-8; the limit is {tools.max_document_bytes} bytes "
                "(OSCAL_MAX_DOCUMENT_BYTES). Save it to a file and ask the operator about the limit"
            )
        return await run(Request(content, fmt, chosen, "content", tools.max_errors))

    async def validate_oscal_file(
        path: Annotated[
            str,
            Field(
                description="A file path inside the server's allowed roots (relative paths start at the first "
                "root), or an http(s) URL when the server allows remote URIs."
            ),
        ],
        model: ModelParam = None,
    ) -> ValidationResult:
        """Validate an OSCAL JSON or YAML file the server can read (format from the suffix), with
        the same three levels and bounded error lists as validate_oscal_content. Readable files:
        those ending in .json, .yaml or .yml (any case) inside the server's configured roots
        (OSCAL_FILE_ROOTS, default: its working directory), and never a file or directory whose
        name starts with '.' (such as .env or .git); paths leaving the roots through '..' or
        symlinks are refused. http(s) URLs work only when the operator enabled
        OSCAL_ALLOW_REMOTE_URIS, for public hosts only; redirects are not followed. A refused path,
        a missing file, a directory or a file above the size limit is an error naming the cause."""
        chosen = requested_model(model)
        data, shown = await read_source(context, path)
        fmt = guess_format(shown, data)
        return await run(Request(data, fmt, chosen, shown, tools.max_errors))

    server.add_tool(
        validate_oscal_content, name="validate_oscal_content", title="Validate OSCAL content", annotations=read_only()
    )
    server.add_tool(
        validate_oscal_file,
        name="validate_oscal_file",
        title="Validate an OSCAL file",
        annotations=read_only(open_world=tools.allow_remote_uris),
    )
