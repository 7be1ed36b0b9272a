"""Reference checks beyond NIST's rules: references an SSP makes that no constraint of the
1.2.x modules covers, but that point at nothing.

- a ``by-component``'s ``component-uuid`` that names no component of the SSP's
  ``system-implementation``;
- an implemented requirement's ``control-id`` that is not a control of the catalog or profile the
  SSP imports, when that source can be resolved (the caller says how, through `ControlSource`).

Both are warnings: the document stays valid, and the message says the rule is this server's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from oscal_mcp.oscal.metaschema.checking import Violation, shown

ControlIds = frozenset[str]
ControlSource = Callable[[str], ControlIds | None]
BEYOND = "goes beyond NIST's rules: checked by this server, not by NIST's Metaschema constraints"
COMPONENT_RULE = "oscal-mcp-by-component-component-uuid-exists"
CONTROL_RULE = "oscal-mcp-implemented-requirement-control-id-in-source"


def _dicts(parent: Any, key: str) -> list[tuple[int, Mapping[str, Any]]]:
    value = parent.get(key) if isinstance(parent, Mapping) else None
    return [(i, item) for i, item in enumerate(value) if isinstance(item, Mapping)] if isinstance(value, list) else []


def beyond_nist(document: object, control_ids: ControlSource | None) -> Iterator[Violation]:
    ssp = document.get("system-security-plan") if isinstance(document, Mapping) else None
    if not isinstance(ssp, Mapping):
        return
    implementation = ssp.get("control-implementation")
    requirements = _dicts(implementation, "implemented-requirements")
    yield from _component_references(ssp, requirements)
    source = ssp.get("import-profile")
    href = source.get("href") if isinstance(source, Mapping) else None
    ids = control_ids(href) if control_ids is not None and isinstance(href, str) else None
    if ids:
        yield from _control_references(requirements, ids, href or "")


def _component_references(
    ssp: Mapping[str, Any], requirements: list[tuple[int, Mapping[str, Any]]]
) -> Iterator[Violation]:
    known = {c.get("uuid") for _, c in _dicts(ssp.get("system-implementation"), "components")}
    base = ("system-security-plan", "control-implementation", "implemented-requirements")
    for i, requirement in requirements:
        places: list[tuple[tuple[str | int, ...], Mapping[str, Any]]] = [((*base, i), requirement)]
        places += [((*base, i, "statements", j), s) for j, s in _dicts(requirement, "statements")]
        for path, holder in places:
            for k, by_component in _dicts(holder, "by-components"):
                uuid = by_component.get("component-uuid")
                if isinstance(uuid, str) and uuid not in known:
                    yield Violation(
                        COMPONENT_RULE,
                        "WARNING",
                        (*path, "by-components", k, "component-uuid"),
                        f"{shown(uuid)} names no component in system-implementation.components ({BEYOND})",
                    )


def _control_references(
    requirements: list[tuple[int, Mapping[str, Any]]], ids: ControlIds, href: str
) -> Iterator[Violation]:
    base = ("system-security-plan", "control-implementation", "implemented-requirements")
    for i, requirement in requirements:
        control_id = requirement.get("control-id")
        if isinstance(control_id, str) and control_id not in ids:
            yield Violation(
                CONTROL_RULE,
                "WARNING",
                (*base, i, "control-id"),
                f"{shown(control_id)} is not a control of the imported profile {shown(href)} ({BEYOND})",
            )
