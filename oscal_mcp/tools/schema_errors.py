"""Listing JSON Schema errors: bounded in time, the same with or without jsonschema-rs, and never
echoing a value of the document.

* **No values.** jsonschema's own messages quote the offending value (``repr(instance)``), so a file
  that is not OSCAL at all (a ``.env``...) would come back in the errors. `message` rebuilds every
  message from the keyword, the schema's own values (types, property names, allowed values,
  patterns, limits) and a description of the value (``a string of 37 characters``), never the value.
  Unexpected property names are named (clipped): the document's keys appear in JSON paths anyway.
* **Bounded work.** jsonschema computes the errors of every branch of a failing ``anyOf`` up front,
  which costs seconds per megabyte when everything is wrong. Validation here uses an equivalent
  schema without the ``anyOf [X, null]`` of optional fields (`schemas.validation_schema`), so most
  errors stream one by one; the remaining ``anyOf`` (real unions) first looks for a passing branch
  lazily; ``$ref`` skips every subtree jsonschema-rs (when installed) finds valid; and listing stops
  once `LISTING_BUDGET_SECONDS` are spent, which the result reports (its count is then a lower bound).
* **One answer.** Errors are always listed by jsonschema: jsonschema-rs only says "valid" (for the
  whole document or for a subtree to skip), so the errors do not depend on which engine is installed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from oscal_mcp.tools.text import clip

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaError
    from jsonschema.protocols import Validator

LISTING_BUDGET_SECONDS = 5.0
MAX_NAMES_SHOWN = 5
MAX_SCHEMA_VALUES_SHOWN = 20
MAX_NAME_CHARS = 60
NULL_CONDITION: dict[str, Any] = {"type": "null"}
T = TypeVar("T")


class ListingStopped(Exception):
    """Raised inside validation once the listing budget is spent."""


@dataclass(frozen=True)
class _Run:
    pruner: Any | None  # a jsonschema_rs.ValidatorMap: subtrees it finds valid are skipped
    deadline: float | None  # time.monotonic() after which listing stops
    contexts: bool  # compute the branch errors of a failing anyOf (False: only whether it fails)


_RUN: ContextVar[_Run | None] = ContextVar("oscal_mcp_schema_run", default=None)


# -- the validator ---------------------------------------------------------------------------------


@cache
def validator_class() -> type[Validator]:
    """Draft 2020-12 with a lazy, budgeted ``anyOf``, a budgeted ``$ref`` that skips valid subtrees,
    and a direct ``if: {"type": "null"}`` (the rewrite of optional fields, checked once per field)."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    original_ref = Draft202012Validator.VALIDATORS["$ref"]

    def ref(validator: Any, value: str, instance: Any, schema: Any) -> Iterator[SchemaError]:
        run = _RUN.get()
        if run is not None:
            _tick(run)
            if run.pruner is not None and _known_valid(run.pruner, value, instance):
                return
        yield from original_ref(validator, value, instance, schema)

    original_if = Draft202012Validator.VALIDATORS["if"]

    def if_(validator: Any, condition: Any, instance: Any, schema: Any) -> Iterator[SchemaError]:
        if condition != NULL_CONDITION:
            yield from original_if(validator, condition, instance, schema)
        elif instance is None and "then" in schema:  # null: the type check jsonschema would make
            yield from validator.descend(instance, schema["then"], schema_path="then")
        elif instance is not None and "else" in schema:
            yield from validator.descend(instance, schema["else"], schema_path="else")

    keywords = {"$ref": ref, "anyOf": _any_of, "if": if_}
    cls: type[Validator] = extend(Draft202012Validator, keywords)  # type: ignore[no-untyped-call]
    return cls


def _any_of(validator: Any, branches: list[Any], instance: Any, schema: Any) -> Iterator[SchemaError]:
    from jsonschema.exceptions import ValidationError

    run = _RUN.get()
    if run is not None:
        _tick(run)
    for index, branch in enumerate(branches):
        if next(validator.descend(instance, branch, schema_path=index), None) is None:
            return
    context: list[SchemaError] = []
    if run is None or run.contexts:
        for index, branch in enumerate(branches):
            context.extend(validator.descend(instance, branch, schema_path=index))
    yield ValidationError("is not valid under any of the given schemas", context=context)


def _tick(run: _Run) -> None:
    if run.deadline is not None and time.monotonic() > run.deadline:
        raise ListingStopped


def _known_valid(pruner: Any, ref: str, instance: Any) -> bool:
    fast = pruner.get(ref)
    if fast is None:
        return False
    try:
        return bool(fast.is_valid(instance))
    except Exception:  # a value jsonschema-rs cannot take (NaN from YAML...): let jsonschema decide
        return False


# -- running it ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed(Generic[T]):
    items: list[T]
    total: int
    complete: bool = True


def is_valid(validator: Validator, document: Any, *, pruner: Any | None = None) -> bool:
    """Whether `document` is valid; linear in its size (no branch errors are computed), no budget."""
    token = _RUN.set(_Run(pruner, None, contexts=False))
    try:
        return next(validator.iter_errors(document), None) is None
    finally:
        _RUN.reset(token)


def list_errors(
    validator: Validator,
    document: Any,
    convert: Callable[[SchemaError], T],
    limit: int,
    *,
    pruner: Any | None = None,
    budget: float | None = None,
) -> Listed[T]:
    """The first `limit` leaf errors (converted) and how many there are, within `budget` seconds.

    When the budget runs out, `complete` is False and `total` counts the errors found until then.
    """
    deadline = None if budget is None else time.monotonic() + budget
    run = _Run(pruner, deadline, contexts=True)
    token = _RUN.set(run)
    items: list[T] = []
    total = 0
    try:
        for error in validator.iter_errors(document):
            for leaf in leaf_errors(error):
                total += 1
                if total <= limit:
                    items.append(convert(leaf))
            _tick(run)
    except ListingStopped:
        return Listed(items, total, complete=False)
    finally:
        _RUN.reset(token)
    return Listed(items, total)


# -- which errors ----------------------------------------------------------------------------------


def leaf_errors(error: SchemaError) -> Iterator[SchemaError]:
    """Replace an anyOf/oneOf failure by the errors of the branch the value most nearly matched.

    A failing union reports every branch (``Group1 | Group2``). The branch whose errors reach
    deepest into the value (fewest errors on a tie) is the one the author meant; its own errors are
    reported instead, recursively. Branches that only say "not null" never win.
    """
    if not error.context:
        yield error
        return
    branches: dict[Any, list[SchemaError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
    candidates = [errors for errors in branches.values() if not _only_null_type(errors)]
    if not candidates:
        yield error
        return
    best = max(candidates, key=lambda errors: (max(len(e.absolute_path) for e in errors), -len(errors)))
    for sub in best:
        yield from leaf_errors(sub)


def _only_null_type(errors: list[SchemaError]) -> bool:
    return all(e.validator == "type" and e.validator_value == "null" for e in errors)


# -- what they say ---------------------------------------------------------------------------------


def describe(value: Any) -> str:
    """What kind of value `value` is, without any of its content."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return f"a string of {_count(len(value), 'character')}"
    if isinstance(value, list):
        return f"an array of {_count(len(value), 'item')}"
    if isinstance(value, dict):
        return f"an object with {_count(len(value), 'property', 'properties')}"
    return f"a {type(value).__name__} value"


def message(error: SchemaError) -> str:
    """The reason for `error` in jsonschema's words, with the value replaced by `describe`."""
    what = describe(error.instance)
    keyword = error.validator
    build = _MESSAGES.get(str(keyword)) if keyword is not None else _not_allowed
    if build is None:
        return f"{what} does not satisfy the schema keyword {clip(str(keyword), MAX_NAME_CHARS)!r}"
    return build(error, what)


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _type(error: SchemaError, what: str) -> str:
    types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    return f"{what} is not of type {', '.join(repr(t) for t in types)}"


def _required(error: SchemaError, what: str) -> str:
    required = error.validator_value if isinstance(error.validator_value, list) else []
    names = [name for name in required if isinstance(name, str)]
    named = next((name for name in names if error.message == f"{name!r} is a required property"), None)
    if named is None and isinstance(error.instance, dict):
        named = next((name for name in names if name not in error.instance), None)
    return f"{named!r} is a required property" if named else f"{what} lacks a required property"


def _additional(error: SchemaError, what: str) -> str:
    if not isinstance(error.instance, dict) or not isinstance(error.schema, dict):
        return f"{what} has properties the schema does not allow"
    allowed = error.schema.get("properties") or {}
    patterns = error.schema.get("patternProperties") or {}
    extras = [k for k in error.instance if k not in allowed and not any(re.search(p, k) for p in patterns)]
    verb = "was" if len(extras) == 1 else "were"
    return f"Additional properties are not allowed ({_names(extras)} {verb} unexpected)"


def _names(values: list[Any], limit: int = MAX_NAMES_SHOWN) -> str:
    shown = ", ".join(_name(v) for v in values[:limit])
    more = len(values) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _name(value: Any) -> str:
    return repr(clip(value, MAX_NAME_CHARS)) if isinstance(value, str) else clip(repr(value), MAX_NAME_CHARS)


def _simple(template: str) -> Callable[[SchemaError, str], str]:
    """A message from a template with {what} (the value described) and {value} (the schema's value)."""

    def build(error: SchemaError, what: str) -> str:
        value = error.validator_value
        shown = _names(value, MAX_SCHEMA_VALUES_SHOWN) if isinstance(value, list) else clip(repr(value), 200)
        return template.format(what=what, value=shown)

    return build


def _not_allowed(error: SchemaError, what: str) -> str:
    return f"{what} is not allowed here (the schema is false)"


_MESSAGES: dict[str, Callable[[SchemaError, str], str]] = {
    "type": _type,
    "required": _required,
    "additionalProperties": _additional,
    "enum": _simple("{what} is not one of {value}"),
    "const": _simple("{value} was expected, not {what}"),
    "pattern": _simple("{what} does not match {value}"),
    "format": _simple("{what} is not a valid {value}"),
    "minLength": _simple("{what} is too short: at least {value} character(s) expected"),
    "maxLength": _simple("{what} is too long: at most {value} character(s) expected"),
    "minItems": _simple("{what} is too short: at least {value} item(s) expected"),
    "maxItems": _simple("{what} is too long: at most {value} item(s) expected"),
    "minProperties": _simple("{what} has too few properties: at least {value} expected"),
    "maxProperties": _simple("{what} has too many properties: at most {value} expected"),
    "minimum": _simple("{what} is less than the minimum of {value}"),
    "maximum": _simple("{what} is more than the maximum of {value}"),
    "exclusiveMinimum": _simple("{what} is less than or equal to the minimum of {value}"),
    "exclusiveMaximum": _simple("{what} is more than or equal to the maximum of {value}"),
    "multipleOf": _simple("{what} is not a multiple of {value}"),
    "uniqueItems": _simple("{what} has non-unique items"),
    "anyOf": _simple("{what} is not valid under any of the given schemas"),
    "oneOf": _simple("{what} is not valid under exactly one of the given schemas"),
    "not": _simple("{what} must not be valid under the schema given in 'not'"),
}
