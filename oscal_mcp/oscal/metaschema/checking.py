"""Checking a document against the constraints of NIST's Metaschema modules.

Each definition's constraints run with each of its instances in the document as the context
(Metaschema specification, "Constraints"): targets and tests are Metapath (`metapath_eval.py`),
keys are built from ``key-field`` targets (and their ``pattern``'s first group). Two rules join
constraints: several ``allowed-values`` on one value allow the union of their values, and any
``allow-other="yes"`` among them allows anything; ``index-has-key`` is checked once every
``index`` of the document is built. A violation keeps the constraint's id and level (``ERROR``
when the module gives none) and the JSON path of the offending value; values are never quoted
whole. Work stops at a deadline; the report then says it is incomplete.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from oscal_mcp.oscal.issues import json_path
from oscal_mcp.oscal.metaschema.datatypes import DATATYPES
from oscal_mcp.oscal.metaschema.instance import build_view
from oscal_mcp.oscal.metaschema.metapath_eval import Compiled, Environment, compile_metapath, document_order, truth
from oscal_mcp.oscal.metaschema.metapath_shortcuts import Guard, target_guard, value_getter
from oscal_mcp.oscal.metaschema.model import Constraint
from oscal_mcp.oscal.metaschema.nodes import FlagRef, Item, Node, PathParts, atom, item_path, value_path
from oscal_mcp.oscal.metaschema.registry import Metaschema, load_metaschema
from oscal_mcp.oscal.text import clip

ERROR_LEVELS = frozenset({"ERROR", "CRITICAL"})
VALUE_CHARS = 40
LISTED_VALUES = 12
Key = tuple[str | None, ...]


@dataclass(frozen=True)
class Violation:
    constraint_id: str
    level: str
    path: PathParts
    message: str

    @property
    def is_error(self) -> bool:
        return self.level in ERROR_LEVELS


@dataclass
class Report:
    """The violations found (`max_kept` of each of errors and other levels), their counts, and
    whether every constraint ran."""

    max_kept: int
    errors: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    complete: bool = True
    notes: list[str] = field(default_factory=list)

    def add(self, violation: Violation) -> None:
        if violation.is_error:
            self.error_count += 1
            if len(self.errors) < self.max_kept:
                self.errors.append(violation)
        else:
            self.warning_count += 1
            if len(self.warnings) < self.max_kept:
                self.warnings.append(violation)


class DeadlineReached(Exception):
    """The constraint level's time budget is spent."""


def shown(value: object) -> str:
    """A value for a message: quoted, and clipped so a message never carries a whole value."""
    return repr(clip(str(value), VALUE_CHARS))


def check(document: object, metaschema: Metaschema, max_kept: int, budget_seconds: float) -> Report | None:
    """Every constraint of `metaschema` on `document`; None when the document has no OSCAL root."""
    view = build_view(document, metaschema)
    if view is None:
        return None
    report = Report(max_kept=max_kept)
    env = Environment(view.document, view.by_name)
    run = _Run(metaschema, env, report, time.monotonic() + budget_seconds)
    plans = _plans(metaschema.version)
    try:
        for key, items in view.by_definition.items():
            for step in plans[key]:
                run.apply(step, items)
        run.finish()
    except DeadlineReached:
        report.complete = False
    if run.env.external_documents_skipped:
        report.notes.append(
            "Some constraints name another document with doc() (an imported SSP); it was not loaded, "
            "so keys defined only there were not checked."
        )
    return report


@cache
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


@dataclass(frozen=True)
class _Step:
    """One constraint made ready to run: its handler, its target compiled, and the guard that
    skips contexts without targets (none for a cardinality: too few targets breaks it too)."""

    constraint: Constraint
    handler: Callable[[_Run, _Step, Item], None]
    target: Compiled
    guard: Guard | None
    values: frozenset[str] = frozenset()  # allowed-values: the values it allows


@cache
def _plans(version: str) -> dict[str, tuple[_Step, ...]]:
    """Every definition's constraints made ready, once per module set."""
    return {
        key: tuple(
            _Step(
                constraint=c,
                handler=_HANDLERS[c.kind],
                target=compile_metapath(c.target),
                guard=None if c.kind == "has-cardinality" else target_guard(c.target),
                values=frozenset(allowed.value for allowed in c.values),
            )
            for c in definition.constraints
        )
        for key, definition in load_metaschema(version).definitions.items()
    }


class _Run:
    def __init__(self, metaschema: Metaschema, env: Environment, report: Report, deadline: float) -> None:
        self.metaschema = metaschema
        self.env = env
        self.report = report
        self.deadline = deadline
        self.indexes: dict[str, dict[Key, Item]] = {}
        self.partial_indexes: set[str] = set()
        self.pending_keys: list[tuple[Constraint, Item]] = []
        # each allowed-values target by position (the values of several constraints are a union):
        # None once one of its constraints allows its value, else it and the constraints that do
        # not. Keys are tuples of an int and a str, which the cycle collector stops tracking.
        self.allowed: dict[tuple[int, str], tuple[Node | FlagRef, list[Constraint]] | None] = {}

    def apply(self, step: _Step, contexts: list[Node | FlagRef]) -> None:
        if time.monotonic() > self.deadline:
            raise DeadlineReached
        guard, handler = step.guard, step.handler
        for context in contexts:
            if guard is None or isinstance(context, FlagRef) or guard(context):
                handler(self, step, context)

    def violation(self, constraint: Constraint, item: Item, message: str, path: PathParts | None = None) -> None:
        where = item_path(item) if path is None else path
        self.report.add(Violation(constraint.label, constraint.level, where, constraint.message or message))

    def key_path(self, constraint: Constraint, item: Item) -> PathParts:
        """Where a key is: its flag when the key is one flag (``@uuid``), else the keyed item."""
        fields = constraint.key_fields
        if len(fields) == 1 and fields[0].target.startswith("@") and isinstance(item, Node):
            return (*item.path, fields[0].target[1:])
        return value_path(item)

    def key(self, constraint: Constraint, item: Item) -> Key:
        parts: list[str | None] = []
        for key_field in constraint.key_fields:
            value = value_getter(key_field.target)(item, self.env)
            if value is not None and key_field.pattern:
                match = _pattern(key_field.pattern).search(value)
                value = match.group(1) if match and match.groups() else value
            parts.append(value)
        return tuple(parts)

    def finish(self) -> None:
        self._check_allowed_values()
        for constraint, item in self.pending_keys:
            self._check_has_key(constraint, item)

    def _check_allowed_values(self) -> None:
        for refused in self.allowed.values():
            if refused is None:
                continue
            item, constraints = refused
            value = str(atom(item))
            names = sorted({allowed.value for c in constraints for allowed in c.values})
            more = len(names) - LISTED_VALUES
            listed = ", ".join(names[:LISTED_VALUES]) + (f" and {more} more" if more > 0 else "")
            first = constraints[0]
            ids = ", ".join(sorted({c.label for c in constraints}))
            level = "ERROR" if any(c.level in ERROR_LEVELS for c in constraints) else first.level
            message = first.message or f"{shown(value)} is not an allowed value here; allowed: {listed}"
            self.report.add(Violation(ids, level, value_path(item), message))

    def _check_has_key(self, constraint: Constraint, item: Item) -> None:
        key = self.key(constraint, item)
        if None in key:
            return
        index = self.indexes.get(constraint.name or "", {})
        if key not in index and constraint.name not in self.partial_indexes:
            value = shown(" ".join(part or "" for part in key))
            message = f"{value} names nothing in index {constraint.name!r} (no such key here)"
            self.violation(constraint, item, message, self.key_path(constraint, item))


def _allowed_values(run: _Run, step: _Step, context: Item) -> None:
    constraint, allowed, values = step.constraint, run.allowed, step.values
    for item in step.target(context, run.env):
        if isinstance(item, FlagRef):
            owner, name = item
            where = (owner.order, name)
            value = owner.flags.get(name, "")
        elif isinstance(item, Node):
            where = (item.order, "")
            value = item.text or ""
        else:
            continue
        if constraint.allow_other or (value if type(value) is str else str(value)) in values:
            allowed[where] = None
            continue
        refused = allowed.get(where, (item, []))
        if refused is not None and all(known is not constraint for known in refused[1]):
            allowed[where] = (item, [*refused[1], constraint])


def _matches(run: _Run, step: _Step, context: Item) -> None:
    constraint = step.constraint
    for item in step.target(context, run.env):
        value = str(atom(item))
        if constraint.regex is not None and _pattern(constraint.regex).fullmatch(value) is None:
            message = f"{shown(value)} does not match the pattern {constraint.regex}"
            run.violation(constraint, item, message, value_path(item))
        if constraint.datatype is not None and not DATATYPES[constraint.datatype](value):
            run.violation(constraint, item, f"{shown(value)} is not a valid {constraint.datatype}", value_path(item))


def _is_unique(run: _Run, step: _Step, context: Item) -> None:
    constraint = step.constraint
    seen: dict[Key, Item] = {}
    for item in document_order(step.target(context, run.env)):
        key = run.key(constraint, item)
        if all(part is None for part in key):
            continue
        first = seen.setdefault(key, item)
        if first is not item:
            message = _duplicate_message(key, run.key_path(constraint, first), "must be unique")
            run.violation(constraint, item, message, run.key_path(constraint, item))


def _index(run: _Run, step: _Step, context: Item) -> None:
    constraint = step.constraint
    index = run.indexes.setdefault(constraint.name or "", {})
    targets = step.target(context, run.env)
    if run.env.external_documents_skipped and "doc(" in constraint.target:
        run.partial_indexes.add(constraint.name or "")
    for item in document_order(targets):
        key = run.key(constraint, item)
        if None in key:
            continue
        first = index.setdefault(key, item)
        if first is not item:
            message = _duplicate_message(
                key, run.key_path(constraint, first), f"must be unique in index {constraint.name!r}"
            )
            run.violation(constraint, item, message, run.key_path(constraint, item))


def _index_has_key(run: _Run, step: _Step, context: Item) -> None:
    constraint = step.constraint
    run.pending_keys.extend((constraint, item) for item in step.target(context, run.env))


def _has_cardinality(run: _Run, step: _Step, context: Item) -> None:
    constraint = step.constraint
    count = len(step.target(context, run.env))
    low, high = constraint.min_occurs, constraint.max_occurs
    if (low is not None and count < low) or (high is not None and count > high):
        bounds = f"at least {low}" if high is None else f"at most {high}" if low is None else f"{low} to {high}"
        run.violation(constraint, context, f"{count} item(s) match {constraint.target}; expected {bounds}")


def _expect(run: _Run, step: _Step, context: Item) -> None:
    constraint = step.constraint
    test = compile_metapath(constraint.test or "true()")
    for item in step.target(context, run.env):
        if not truth(test(item, run.env)):
            run.violation(constraint, item, f"expected {constraint.test} to hold here")


def _duplicate_message(key: Key, first: PathParts, rule: str) -> str:
    value = " ".join(part or "" for part in key)
    return f"key {shown(value)} {rule}; it first appears at {json_path(first)}"


_HANDLERS = {
    "allowed-values": _allowed_values,
    "matches": _matches,
    "is-unique": _is_unique,
    "index": _index,
    "index-has-key": _index_has_key,
    "has-cardinality": _has_cardinality,
    "expect": _expect,
}
