"""Bounding whole OSCAL objects for a result: long texts clipped, long arrays cut, both reported."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from oscal_mcp.oscal.issues import json_path
from oscal_mcp.oscal.text import clip

MAX_TEXT_CHARS = 4000  # one string of an object (a description, a statement's prose...)
MAX_ARRAY_ITEMS = 200  # one array of an object (props, links, implemented requirements...)
# Ever tighter (text, items) limits for an object that is still larger than its budget.
TIGHTER: tuple[tuple[int, int], ...] = ((1000, 100), (300, 50), (100, 20), (60, 5))


@dataclass
class Clipped:
    """A JSON value within the limits, and where it was cut (``$.links: 250 items, 200 shown``)."""

    value: Any
    cuts: list[str] = field(default_factory=list)


def clip_json(value: Any, *, max_text: int = MAX_TEXT_CHARS, max_items: int = MAX_ARRAY_ITEMS) -> Clipped:
    """A copy of `value` with strings over `max_text` characters clipped and arrays over `max_items` cut."""
    result = Clipped(None)
    result.value = _clip(value, [], max_text, max_items, result.cuts)
    return result


def clip_to_budget(value: Any, budget: int) -> Clipped:
    """`clip_json` with the default limits, or tighter ones until its JSON fits in `budget` characters
    (the tightest limits are kept even if it still does not)."""
    clipped = clip_json(value)
    for max_text, max_items in TIGHTER:
        if len(json.dumps(clipped.value)) <= budget:
            break
        clipped = clip_json(value, max_text=max_text, max_items=max_items)
    return clipped


def _clip(value: Any, path: list[str | int], max_text: int, max_items: int, cuts: list[str]) -> Any:
    if isinstance(value, str):
        if len(value) > max_text:
            cuts.append(f"{json_path(path)}: {len(value)} characters, the first {max_text - 1} shown")
        return clip(value, max_text)
    if isinstance(value, dict):
        return {key: _clip(item, [*path, key], max_text, max_items, cuts) for key, item in value.items()}
    if isinstance(value, list):
        if len(value) > max_items:
            cuts.append(f"{json_path(path)}: {len(value)} items, the first {max_items} shown")
        return [_clip(item, [*path, index], max_text, max_items, cuts) for index, item in enumerate(value[:max_items])]
    return value
