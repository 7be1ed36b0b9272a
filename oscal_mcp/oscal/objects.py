"""Reading parsed OSCAL JSON defensively (`clipping` bounds it for a result).

Documents in the store may be invalid (each carries its schema check), so every accessor here
tolerates a value of the wrong type (a list where an object belongs...) by treating it as absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
