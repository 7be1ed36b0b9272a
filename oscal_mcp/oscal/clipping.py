"""Bounding OSCAL objects for a result without changing their shape: long strings end in an
ellipsis, long lists are cut, objects nested too deep are left out, and every cut is named by its
JSON path (``$.links: 250 items, the first 200 shown``) so a caller knows what it misses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from oscal_mcp.oscal.issues import path_step
from oscal_mcp.oscal.text import clip

MAX_DEPTH = 24
MAX_NOTES = 20
MAX_NOTE_CHARS = 300


@dataclass(frozen=True)
class Limits:
    max_text: int = 2000  # one string of an object (a description, a statement's prose...)
    max_items: int = 50  # one array of an object (props, links, implemented requirements...)
    max_depth: int = MAX_DEPTH


# A whole object returned on its own (a component, a capability): roomier limits.
WHOLE_OBJECT = Limits(max_text=4000, max_items=200)
# Ever tighter limits for an object still larger than its budget (`bound_to_budget`).
TIGHTER: tuple[Limits, ...] = (Limits(1000, 100), Limits(300, 50), Limits(100, 20), Limits(60, 5))


@dataclass
class Bounded:
    """A JSON value within the limits, the first `MAX_NOTES` cuts and how many there were."""

    value: Any
    notes: list[str] = field(default_factory=list)
    note_count: int = 0

    def all_notes(self) -> list[str]:
        """The notes kept, and how many more cuts were made when there were too many to list."""
        more = self.note_count - len(self.notes)
        return self.notes + ([f"and {more} more cuts"] if more > 0 else [])

    def note(self, text: str) -> None:
        self.note_count += 1
        if len(self.notes) < MAX_NOTES:
            self.notes.append(clip(text, MAX_NOTE_CHARS))


def bound(value: Any, limits: Limits = Limits()) -> Bounded:
    """A copy of `value` within `limits`, with a note (JSON path) for each string or list cut."""
    result = Bounded(None)
    result.value = _bound(value, "$", 0, limits, result)
    return result


def bound_to_budget(value: Any, budget: int, limits: Limits = WHOLE_OBJECT) -> Bounded:
    """`bound` with `limits`, or with tighter ones until its JSON fits in `budget` characters (the
    tightest are kept even if it still does not)."""
    bounded = bound(value, limits)
    for tighter in TIGHTER:
        if len(json.dumps(bounded.value)) <= budget:
            break
        bounded = bound(value, tighter)
    return bounded


def _bound(value: Any, path: str, depth: int, limits: Limits, out: Bounded) -> Any:
    if isinstance(value, str):
        if len(value) <= limits.max_text:
            return value
        out.note(f"{path}: {len(value)} characters, clipped to {limits.max_text}")
        return clip(value, limits.max_text)
    if not isinstance(value, dict | list):
        return value
    if depth >= limits.max_depth:
        out.note(f"{path}: nested deeper than {limits.max_depth} levels, left out")
        return {} if isinstance(value, dict) else []
    if isinstance(value, dict):
        return {k: _bound(v, path_step(path, str(k)), depth + 1, limits, out) for k, v in value.items()}
    if len(value) > limits.max_items:
        out.note(f"{path}: {len(value)} items, the first {limits.max_items} shown")
    return [_bound(v, f"{path}[{i}]", depth + 1, limits, out) for i, v in enumerate(value[: limits.max_items])]
