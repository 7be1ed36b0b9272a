"""The results of validation: issues with JSON paths, and levels bounded to a number of issues."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, TypeVar

from pydantic import BaseModel, Field

from oscal_mcp.oscal.text import clip

Level = Literal["well-formed", "schema-valid", "model-valid", "constraints-valid"]
Status = Literal["passed", "failed", "skipped"]
MAX_MESSAGE_CHARS = 300
MAX_PATH_CHARS = 300
T = TypeVar("T")


class ValidationIssue(BaseModel):
    path: str = Field(description="JSON path of the offending value, e.g. $.catalog.groups[0].controls[3].id")
    message: str
    line: int | None = Field(default=None, description="1-based line, for well-formedness errors.")
    column: int | None = Field(default=None, description="1-based column, for well-formedness errors.")
    constraint_id: str | None = Field(
        default=None, description="The id of the NIST Metaschema constraint broken (constraints-valid level)."
    )
    severity: str | None = Field(
        default=None,
        description="The constraint's level: ERROR or CRITICAL make a document invalid; WARNING, INFO do not.",
    )


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
    warning_count: int = Field(default=0, description="Findings below ERROR (WARNING, INFO): listed, not failing.")
    warnings: list[ValidationIssue] = Field(default_factory=list, description="The first warnings, like errors.")


def issue(path: Iterable[str | int], message: str) -> ValidationIssue:
    """An issue at the JSON path made of `path`'s parts, its message clipped."""
    return ValidationIssue(path=json_path(path), message=clip(message, MAX_MESSAGE_CHARS))


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
        path = path_step(path, part)
    return clip(path, MAX_PATH_CHARS)


def path_step(path: str, part: str | int) -> str:
    """`path` followed by ``.key``, ``[index]`` or ``['odd key']``."""
    if isinstance(part, int):
        return f"{path}[{part}]"
    if _PLAIN_KEY.fullmatch(part):
        return f"{path}.{part}"
    return path + "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"


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
