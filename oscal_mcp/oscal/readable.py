"""OSCAL objects as readable text: a short description for a list entry, and the whole object as
plain text for a reader that wants prose (the ``fetch`` tool's ``text``) rather than JSON.

A control reads as NIST prints it (label and title, the statement with its parameters, guidance,
enhancement ids); any other object as indented ``name: value`` lines in document order, so nothing
it holds is lost, long arrays and deep nesting bounded by `MAX_TEXT_CHARS`.
"""

from __future__ import annotations

import re
from typing import Any

from oscal_mcp.oscal.catalogs import label, param_text, statement_text
from oscal_mcp.oscal.objects import dicts, string
from oscal_mcp.oscal.text import clip

SHORT_CHARS = 160
MAX_TEXT_CHARS = 48_000
MAX_LINES = 4_000  # long before MAX_TEXT_CHARS is reached: stop walking
_SPACES = re.compile(r"\s+")
_DESCRIBING = ("description", "remarks", "purpose", "prose", "statement", "relationship")


def one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def short_description(obj: dict[str, Any], limit: int = SHORT_CHARS) -> str:
    """The start of what describes `obj`: its description, remarks, purpose, prose, or its statement."""
    for key in _DESCRIBING:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return clip(one_line(value), limit)
    statement = statement_text(obj)
    return clip(one_line(statement), limit) if statement else ""


def control_text(control: dict[str, Any]) -> str:
    heading = " ".join(t for t in (label(control) or string(control, "id"), string(control, "title")) if t)
    sections = [heading]
    statement = statement_text(control)
    if statement:
        sections.append("Statement:\n" + statement)
    for part in dicts(control, "parts"):
        if string(part, "name") == "guidance":
            sections.append("Guidance:\n" + "\n".join(_prose(part)))
    params = [f"- {string(p, 'id')}: {param_text(p)}" for p in dicts(control, "params")]
    if params:
        sections.append("Parameters:\n" + "\n".join(params))
    enhancements = [string(c, "id") for c in dicts(control, "controls")]
    if enhancements:
        sections.append("Enhancements: " + ", ".join(enhancements))
    return clip("\n\n".join(sections), MAX_TEXT_CHARS)


def _prose(part: dict[str, Any]) -> list[str]:
    lines = [string(part, "prose").strip()] if string(part, "prose").strip() else []
    for sub in dicts(part, "parts"):
        lines += _prose(sub)
    return lines


def readable_text(kind: str, title: str, obj: dict[str, Any]) -> str:
    """`obj` as text: a control as NIST prints it, anything else as indented ``name: value`` lines."""
    if kind == "control":
        return control_text(obj)
    lines: list[str] = [title] if title else []
    _lines(obj, 0, lines)
    return clip("\n".join(lines), MAX_TEXT_CHARS)


def _lines(value: Any, depth: int, out: list[str]) -> None:
    indent = "  " * depth
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str | int | float | bool):
                out.append(f"{indent}{key}: {item}")
            else:
                out.append(f"{indent}{key}:")
                _lines(item, depth + 1, out)
            if len(out) > MAX_LINES:
                return
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                out.append(f"{indent}-")
                _lines(item, depth + 1, out)
            else:
                out.append(f"{indent}- {item}")
