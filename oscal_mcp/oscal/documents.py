"""Parsing OSCAL documents: JSON or YAML into plain JSON data, with line and column on errors.

Nothing here raises anything but `DocumentError` on bad input: malformed text, invalid UTF-8, a
number Python will not convert, YAML anchors (shared nodes), or nesting deeper than `MAX_NESTING`.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from functools import cache
from pathlib import PurePosixPath
from typing import Any, Literal

from oscal_mcp.oscal.errors import DocumentError

DocumentFormat = Literal["json", "yaml"]
FORMATS: tuple[DocumentFormat, ...] = ("json", "yaml")
# OSCAL documents nest about 15 levels deep (catalog > group > control > part > part ...). A bound
# keeps the recursive validators far from Python's recursion limit on hostile input.
MAX_NESTING = 100


def guess_format(name: str, data: bytes) -> DocumentFormat:
    """By file suffix, else by the first non-blank character (``{``/``[`` is JSON)."""
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    return "json" if data.lstrip()[:1] in (b"{", b"[") else "yaml"


def parse_document(data: bytes | str, fmt: DocumentFormat) -> Any:
    """Parse JSON or YAML into plain JSON data; DocumentError with line/column on failure."""
    try:
        parsed = _parse_json(data) if fmt == "json" else _parse_yaml(data)
    except RecursionError:
        raise DocumentError(f"the document nests more than {MAX_NESTING} levels deep") from None
    check_nesting(parsed)
    return parsed


def _parse_json(data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"malformed JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except UnicodeDecodeError as exc:
        raise DocumentError(f"the document is not valid UTF-8 (byte {exc.start})") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts (sys.get_int_max_str_digits)
        raise DocumentError(f"malformed JSON: {_value_problem(exc)}") from None


def _value_problem(exc: Exception) -> str:
    """A caller-facing reason for a ValueError raised while converting a scalar (never the value itself)."""
    if "integer string conversion" in str(exc):
        return f"a number has more than {sys.get_int_max_str_digits()} digits"
    return f"a value cannot be converted ({type(exc).__name__})"


def _parse_yaml(data: bytes | str) -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML ships with compliance-trestle's dependencies
        raise DocumentError("YAML support needs PyYAML: pip install pyyaml") from None
    try:
        loaded = yaml.load(data, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise DocumentError(f"malformed YAML: {exc.problem or exc}", line, column) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DocumentError(f"malformed YAML: {exc}") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a scalar the constructor cannot convert
        raise DocumentError(f"malformed YAML: {_value_problem(exc)}") from None
    return _plain(loaded)


@cache
def _yaml_loader() -> type[Any]:
    """A safe loader that keeps timestamps as the strings they are in OSCAL (not datetime objects)."""
    import yaml

    base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = {
        first: [(tag, regexp) for tag, regexp in entries if tag != "tag:yaml.org,2002:timestamp"]
        for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return type("OscalYamlLoader", (base,), {"yaml_implicit_resolvers": resolvers})


def _plain(loaded: Any) -> Any:
    """YAML data as JSON data: string keys, ISO dates; anchors/aliases (shared nodes) refused."""
    seen: set[int] = set()

    def convert(node: Any) -> Any:
        if isinstance(node, dict | list):
            if id(node) in seen:
                raise DocumentError("YAML anchors and aliases (& and *) are not supported in OSCAL documents")
            seen.add(id(node))
            if isinstance(node, list):
                return [convert(item) for item in node]
            return {_key(key): convert(value) for key, value in node.items()}
        if isinstance(node, datetime | date):
            return node.isoformat()
        return node

    return convert(loaded)


def _key(key: Any) -> str:
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    return str(key)


def check_nesting(document: Any, limit: int = MAX_NESTING) -> None:
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            raise DocumentError(f"the document nests more than {limit} levels deep")
        if isinstance(node, dict):
            pending.extend((value, depth + 1) for value in node.values() if isinstance(value, dict | list))
        elif isinstance(node, list):
            pending.extend((value, depth + 1) for value in node if isinstance(value, dict | list))
