"""Catalog controls: finding a control by the ids people use, and its statement as readable text.

Controls are looked up by OSCAL id (``ac-2.1``), by the label NIST prints (``AC-2(1)``, kept in the
``label`` property) or by the printed form written loosely (``AC-2 (1)``, ``ac-02``). The statement
is rendered as numbered text with each parameter shown as NIST prints it: ``[Assignment: ...]`` or
``[Selection (one or more): a; b]``, or the value a profile set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from oscal_mcp.oscal.objects import child, dicts, string, strings
from oscal_mcp.oscal.queries import Found, catalog_objects

_ENHANCEMENT = re.compile(r"\s*\(\s*([a-z0-9]+)\s*\)")
_LEADING_ZEROS = re.compile(r"-0+(\d)")
_INSERT = re.compile(r"\{\{\s*insert:\s*param,\s*([^\s}]+)\s*\}\}")
MAX_STATEMENT_CHARS = 20_000


def normalize_control_id(raw: str) -> str:
    """``AC-2(1)``, ``AC-2 (1)``, ``ac-02.1`` -> ``ac-2.1`` (OSCAL's id form for SP 800-53)."""
    text = _ENHANCEMENT.sub(r".\1", raw.strip().lower())
    return _LEADING_ZEROS.sub(r"-\1", text.replace(" ", ""))


def control_id_forms(raw: str) -> frozenset[str]:
    """The ids a user's control id may stand for: as typed (any case) and normalized."""
    return frozenset((raw.strip().lower(), normalize_control_id(raw)))


def controls(body: dict[str, Any]) -> Iterator[Found]:
    return (found for found in catalog_objects(body) if found.kind == "control")


def groups(body: dict[str, Any]) -> Iterator[Found]:
    return (found for found in catalog_objects(body) if found.kind == "group")


def label(control: dict[str, Any]) -> str:
    return next((string(p, "value") for p in dicts(control, "props") if string(p, "name") == "label"), "")


def find_control(body: dict[str, Any], raw: str) -> Found | None:
    """The control whose id or label matches `raw` (any case, loose enhancement syntax), or None."""
    wanted = control_id_forms(raw)
    fallback: Found | None = None
    for found in controls(body):
        if found.ref.lower() in wanted:
            return found
        if fallback is None and normalize_control_id(label(found.obj)) in wanted:
            fallback = found
    return fallback


def near_miss(body: dict[str, Any], raw: str) -> str | None:
    """What the catalog holds next to a control id it lacks: the enhancements of the control `raw`
    enhances (``ac-2.99`` -> ``ac-2`` and its enhancements), or the controls of its family."""
    wanted = normalize_control_id(raw)
    base, dot, _ = wanted.partition(".")
    if dot:
        parent = find_control(body, base)
        if parent is not None:
            ids = [string(c, "id") for c in dicts(parent.obj, "controls")]
            return f"{parent.ref} has {len(ids)} enhancement(s){': ' + _span(ids) if ids else ''}"
    family = base.split("-", 1)[0]
    ids = [found.ref for found in controls(body) if found.ref.split("-", 1)[0] == family and "." not in found.ref]
    return f"family {family} holds {_span(ids)}" if family and ids else None


def _span(ids: list[str]) -> str:
    return ", ".join(ids) if len(ids) <= 3 else f"{ids[0]} to {ids[-1]}"


def params_by_id(catalog_controls: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {string(p, "id"): p for c in catalog_controls for p in dicts(c, "params") if string(p, "id")}


def param_text(param: dict[str, Any]) -> str:
    """How a parameter reads in a statement: its values when set, else NIST's bracketed form."""
    values = strings(param, "values")
    if values:
        return ", ".join(values)
    select = child(param, "select")
    if select:
        how_many = string(select, "how-many").replace("-", " ")
        kind = f"Selection ({how_many})" if how_many else "Selection"
        return f"[{kind}: {'; '.join(_choice_text(c) for c in select.get('choice') or [] if isinstance(c, str))}]"
    return f"[Assignment: {string(param, 'label') or string(param, 'id')}]"


def _choice_text(choice: str) -> str:
    return _INSERT.sub(lambda m: f"[Assignment: {m.group(1)}]", choice)


def statement_text(control: dict[str, Any], params: dict[str, dict[str, Any]] | None = None) -> str:
    """The control's statement part as indented, labelled text with parameters filled in."""
    known = {**(params or {}), **params_by_id([control])}
    lines: list[str] = []
    for part in dicts(control, "parts"):
        if string(part, "name") == "statement":
            _render(part, known, 0, lines)
    text = "\n".join(line for line in lines if line.strip())
    return text[:MAX_STATEMENT_CHARS]


def _render(part: dict[str, Any], params: dict[str, dict[str, Any]], depth: int, lines: list[str]) -> None:
    prose = _INSERT.sub(lambda m: _param_or_id(params, m.group(1)), string(part, "prose")).strip()
    prefix = label(part)
    lines.append("  " * max(depth - 1, 0) + " ".join(text for text in (prefix, prose) if text))
    for sub in dicts(part, "parts"):
        _render(sub, params, depth + 1, lines)


def _param_or_id(params: dict[str, dict[str, Any]], param_id: str) -> str:
    param = params.get(param_id)
    return param_text(param) if param is not None else f"[Assignment: {param_id}]"
