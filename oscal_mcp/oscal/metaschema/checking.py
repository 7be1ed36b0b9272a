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

import gc
import re
import time
from dataclasses import dataclass, field
from functools import cache

from oscal_mcp.oscal.issues import json_path
from oscal_mcp.oscal.metaschema.datatypes import DATATYPES
from oscal_mcp.oscal.metaschema.instance import build_view
from oscal_mcp.oscal.metaschema.metapath_eval import Environment, compile_metapath, document_order, truth
from oscal_mcp.oscal.metaschema.metapath_shortcuts import target_guard, value_getter
from oscal_mcp.oscal.metaschema.model import Constraint
from oscal_mcp.oscal.metaschema.nodes import FlagRef, Item, Node, PathParts, atom, item_path, value_path
from oscal_mcp.oscal.metaschema.registry import Metaschema
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
    # The view is tens of thousands of small objects and evaluation makes many short lists, none of
    # them cyclic garbage: with the cycle collector on, it rescans the view again and again (the
    # view of the SP 800-53 catalog built 4x slower). It is off while checking, as before after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check(document, metaschema, max_kept, budget_seconds)
    finally:
        if collecting:
            gc.enable()


def _check(document: object, metaschema: Metaschema, max_kept: int, budget_seconds: float) -> Report | None:
    view = build_view(document, metaschema)
    if view is None:
        return None
    report = Report(max_kept=max_kept)
    env = Environment(view.document, view.by_name)
    run = _Run(metaschema, env, report, time.monotonic() + budget_seconds)
    try:
        for key, items in view.by_definition.items():
            for constraint in metaschema.definitions[key].constraints:
                run.apply(constraint, items)
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


class _Run:
    def __init__(self, metaschema: Metaschema, env: Environment, report: Report, deadline: float) -> None:
        self.metaschema = metaschema
        self.env = env
        self.report = report
        self.deadline = deadline
        self.indexes: dict[str, dict[Key, Item]] = {}
        self.partial_indexes: set[str] = set()
        self.pending_keys: list[tuple[Constraint, Item]] = []
        self.allowed: dict[object, tuple[Item, list[Constraint]]] = {}

    def apply(self, constraint: Constraint, contexts: list[Node | FlagRef]) -> None:
        if time.monotonic() > self.deadline:
            raise DeadlineReached
        handler = _HANDLERS[constraint.kind]
        # a cardinality is broken by too few targets too: its contexts are never skipped
        guard = None if constraint.kind == "has-cardinality" else target_guard(constraint.target)
        for context in contexts:
            if guard is None or isinstance(context, FlagRef) or guard(context):
                handler(self, constraint, context)

    def targets(self, constraint: Constraint, context: Item) -> list[Item]:
        return compile_metapath(constraint.target)(context, self.env)

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
        for item, constraints in self.allowed.values():
            if any(c.allow_other for c in constraints):
                continue
            value = str(atom(item))
            if any(value == allowed.value for c in constraints for allowed in c.values):
                continue
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


def _allowed_values(run: _Run, constraint: Constraint, context: Item) -> None:
    for item in run.targets(constraint, context):
        identity = (
            id(item) if isinstance(item, Node) else (id(item.owner), item.name) if isinstance(item, FlagRef) else None
        )
        if identity is None:
            continue
        entry = run.allowed.setdefault(identity, (item, []))
        if all(known is not constraint for known in entry[1]):
            entry[1].append(constraint)


def _matches(run: _Run, constraint: Constraint, context: Item) -> None:
    for item in run.targets(constraint, context):
        value = str(atom(item))
        if constraint.regex is not None and _pattern(constraint.regex).fullmatch(value) is None:
            message = f"{shown(value)} does not match the pattern {constraint.regex}"
            run.violation(constraint, item, message, value_path(item))
        if constraint.datatype is not None and not DATATYPES[constraint.datatype](value):
            run.violation(constraint, item, f"{shown(value)} is not a valid {constraint.datatype}", value_path(item))


def _is_unique(run: _Run, constraint: Constraint, context: Item) -> None:
    seen: dict[Key, Item] = {}
    for item in document_order(run.targets(constraint, context)):
        key = run.key(constraint, item)
        if all(part is None for part in key):
            continue
        first = seen.setdefault(key, item)
        if first is not item:
            message = _duplicate_message(key, run.key_path(constraint, first), "must be unique")
            run.violation(constraint, item, message, run.key_path(constraint, item))


def _index(run: _Run, constraint: Constraint, context: Item) -> None:
    index = run.indexes.setdefault(constraint.name or "", {})
    targets = run.targets(constraint, context)
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


def _index_has_key(run: _Run, constraint: Constraint, context: Item) -> None:
    run.pending_keys.extend((constraint, item) for item in run.targets(constraint, context))


def _has_cardinality(run: _Run, constraint: Constraint, context: Item) -> None:
    count = len(run.targets(constraint, context))
    low, high = constraint.min_occurs, constraint.max_occurs
    if (low is not None and count < low) or (high is not None and count > high):
        bounds = f"at least {low}" if high is None else f"at most {high}" if low is None else f"{low} to {high}"
        run.violation(constraint, context, f"{count} item(s) match {constraint.target}; expected {bounds}")


def _expect(run: _Run, constraint: Constraint, context: Item) -> None:
    test = compile_metapath(constraint.test or "true()")
    for item in run.targets(constraint, context):
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
