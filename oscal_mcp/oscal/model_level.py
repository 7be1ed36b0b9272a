"""The model-valid level: compliance-trestle's typed model of the document's root object.

Validation goes through a pydantic TypeAdapter of the trestle class (`models.trestle_adapter`), so
every error is reported on its own, with its path, never collapsed by trestle into one message.
A valid document yields its typed object, which the indexes keep instead of re-parsing the JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from oscal_mcp.oscal.issues import ValidationIssue, issue
from oscal_mcp.oscal.models import OscalModel, trestle_adapter, trestle_oscal_version
from oscal_mcp.oscal.schemas import property_names
from oscal_mcp.oscal.unions import best_branch

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails


@dataclass(frozen=True)
class ModelCheck:
    """The typed root object when the document is valid, else every issue (in document order)."""

    typed: Any | None
    issues: list[ValidationIssue]


def check_model(model: OscalModel, document: Any) -> ModelCheck:
    """Validate `document` (``{root key: object}``) with trestle's model; never raises on bad content."""
    from pydantic import ValidationError

    if not isinstance(document, dict):
        return ModelCheck(None, [issue([], f"the document is not an object with the root key {model.root_key!r}")])
    if model.root_key not in document:
        return ModelCheck(None, [issue([], f"the root key {model.root_key!r} is missing")])
    try:
        return ModelCheck(trestle_adapter(model.name).validate_python(document[model.root_key]), [])
    except ValidationError as exc:
        details = exc.errors(include_url=False, include_input=False, include_context=False)
        return ModelCheck(None, [_issue(model, detail) for detail in prune_union_branches(details, _keys())])
    except Exception as exc:  # trestle validators may raise their own errors on odd content
        reason = f"compliance-trestle rejected the document: {type(exc).__name__}: {exc}"
        return ModelCheck(None, [issue([model.root_key], reason)])


@cache
def _keys() -> frozenset[str]:
    """The OSCAL property names of the release trestle's models follow (or the nearest bundled)."""
    from oscal_mcp.oscal.schemas import choose_version, newest_version

    return property_names(choose_version(trestle_oscal_version()).version or newest_version())


def _issue(model: OscalModel, detail: ErrorDetails) -> ValidationIssue:
    keys = _keys()
    parts = [model.root_key, *(p for i, p in enumerate(detail["loc"]) if not _is_tag(detail, i, keys))]
    return issue(parts, detail["msg"])


def prune_union_branches(details: Sequence[ErrorDetails], keys: frozenset[str]) -> list[ErrorDetails]:
    """Keep, for each union, only the errors of the branch the value most nearly matched.

    Pydantic reports every branch of a union (``Group1 | Group2``) with the branch's class name in the
    location; a location part that is neither an index nor an OSCAL key is such a branch tag. The
    branch is chosen as at the schema level (`unions.best_branch`).
    """
    kept = _prune(list(enumerate(details)), 0, keys)
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
        best = best_branch(
            list(branches.values()), lambda item: len(item[1]["loc"]), lambda item: item[1]["type"].endswith("_type")
        )
        plain.extend(_prune(list(best), len(prefix) + 1, keys))
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
