"""Reading parsed OSCAL JSON defensively, and bounding it for a result.

Documents in the store passed only a light shape check, so every accessor here tolerates a value of
the wrong type (a list where an object belongs...) by treating it as absent. `bound` clips an OSCAL
object for a tool result without changing its shape: long strings end in an ellipsis, long lists
are cut, and every cut is named by its JSON path in `Bounded.notes` so a caller knows what it misses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ELLIPSIS = "\u2026"
MAX_TEXT_CHARS = 2000
MAX_LIST_ITEMS = 50
MAX_DEPTH = 24
MAX_NOTES = 20
MAX_INDEXED_CHARS = 50_000


def dicts(parent: Any, key: str) -> list[dict[str, Any]]:
    """The objects in ``parent[key]`` when it is a list (other items and types are ignored)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def child(parent: Any, key: str) -> dict[str, Any]:
    """``parent[key]`` when it is an object, else an empty one."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def string(parent: Any, key: str) -> str:
    """``parent[key]`` when it is a string, else ``""``."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, str) else ""


def strings(parent: Any, key: str) -> list[str]:
    value = parent.get(key) if isinstance(parent, dict) else None
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def texts(value: Any, *, skip: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every string in `value`, depth first, leaving out the members named in `skip` (at any level)."""
    pending: list[Any] = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            pending.extend(reversed([v for k, v in node.items() if k not in skip]))
        elif isinstance(node, list):
            pending.extend(reversed(node))


def indexed_text(value: Any, *, skip: frozenset[str] = frozenset()) -> str:
    """The strings of `value` joined for the full-text index, at most MAX_INDEXED_CHARS."""
    parts: list[str] = []
    used = 0
    for text in texts(value, skip=skip):
        if used + len(text) > MAX_INDEXED_CHARS:
            break
        parts.append(text)
        used += len(text) + 1
    return "\n".join(parts)


def without(obj: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys} if keys else obj


@dataclass
class Bounded:
    value: Any
    notes: list[str] = field(default_factory=list)
    note_count: int = 0

    def all_notes(self) -> list[str]:
        """The notes kept, and how many more cuts were made when there were too many to list."""
        more = self.note_count - len(self.notes)
        return self.notes + ([f"and {more} more cuts"] if more > 0 else [])


@dataclass(frozen=True)
class Limits:
    max_text: int = MAX_TEXT_CHARS
    max_items: int = MAX_LIST_ITEMS
    max_depth: int = MAX_DEPTH


def bound(value: Any, limits: Limits = Limits()) -> Bounded:
    """A copy of `value` within `limits`, with a note (JSON path) for each string or list cut."""
    result = Bounded(None)
    result.value = _bound(value, "$", 0, limits, result)
    return result


def _bound(value: Any, path: str, depth: int, limits: Limits, out: Bounded) -> Any:
    if isinstance(value, str):
        if len(value) <= limits.max_text:
            return value
        _note(out, f"{path}: {len(value)} characters, clipped to {limits.max_text}")
        return value[: limits.max_text - 1] + ELLIPSIS
    if not isinstance(value, dict | list):
        return value
    if depth >= limits.max_depth:
        _note(out, f"{path}: nested deeper than {limits.max_depth} levels, left out")
        return {} if isinstance(value, dict) else []
    if isinstance(value, dict):
        return {k: _bound(v, f"{path}.{k}", depth + 1, limits, out) for k, v in value.items()}
    if len(value) > limits.max_items:
        _note(out, f"{path}: {len(value)} items, the first {limits.max_items} shown")
    return [_bound(v, f"{path}[{i}]", depth + 1, limits, out) for i, v in enumerate(value[: limits.max_items])]


def _note(out: Bounded, note: str) -> None:
    out.note_count += 1
    if len(out.notes) < MAX_NOTES:
        out.notes.append(clip(note, 300))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS
