"""The objects inside each OSCAL model that people ask about, found in one place.

`objects_of(model, body)` yields every object of interest of one document (``body`` is the object
under the root key): catalog groups and controls, SSP components and implemented requirements,
assessment tasks, activities and findings, POA&M items, mapping entries... Both the full-text index
and the query tools use it, so a search hit and a query answer always describe the same object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from oscal_mcp.oscal.objects import child, dicts, string

Context = dict[str, str]


@dataclass(frozen=True)
class Found:
    """One object: `kind` (e.g. ``control``, ``finding``), `ref` (its id, control-id or uuid),
    `title`, the OSCAL object itself, its `context` (e.g. the result a finding belongs to), and the
    members left out of its indexed text because they are indexed as objects of their own."""

    kind: str
    ref: str
    title: str
    obj: dict[str, Any]
    context: Context = field(default_factory=dict)
    nested: frozenset[str] = frozenset()


Finder = Callable[[dict[str, Any]], Iterator[Found]]
_CONTROL_NESTED = frozenset({"controls"})
_GROUP_NESTED = frozenset({"groups", "controls"})


def catalog_objects(body: dict[str, Any], context: Context | None = None) -> Iterator[Found]:
    """Groups and controls (enhancements included) in document order; a control's context names its
    group and, for an enhancement, its parent control."""
    context = context or {}
    for control in dicts(body, "controls"):
        yield from _controls(control, context)
    for group in dicts(body, "groups"):
        gid = string(group, "id")
        yield Found("group", gid, string(group, "title"), group, dict(context), _GROUP_NESTED)
        yield from catalog_objects(group, {"group-id": gid} if gid else context)


def _controls(control: dict[str, Any], context: Context) -> Iterator[Found]:
    cid = string(control, "id")
    yield Found("control", cid, string(control, "title"), control, dict(context), _CONTROL_NESTED)
    for enhancement in dicts(control, "controls"):
        yield from _controls(enhancement, {**context, "parent-control-id": cid})


def profile_objects(body: dict[str, Any]) -> Iterator[Found]:
    for number, imported in enumerate(dicts(body, "imports")):
        yield Found("import", string(imported, "href"), f"import {number + 1}", imported)
    modify = child(body, "modify")
    for setting in dicts(modify, "set-parameters"):
        yield Found("set-parameter", string(setting, "param-id"), string(setting, "param-id"), setting)
    for alter in dicts(modify, "alters"):
        yield Found("alter", string(alter, "control-id"), string(alter, "control-id"), alter)


def component_definition_objects(body: dict[str, Any]) -> Iterator[Found]:
    for component in dicts(body, "components"):
        yield Found("component", string(component, "uuid"), string(component, "title"), component)
    for capability in dicts(body, "capabilities"):
        yield Found("capability", string(capability, "uuid"), string(capability, "name"), capability)


def ssp_objects(body: dict[str, Any]) -> Iterator[Found]:
    system = child(body, "system-characteristics")
    if system:
        yield Found("system-characteristics", string(system, "system-name"), string(system, "system-name"), system)
    for component in dicts(child(body, "system-implementation"), "components"):
        yield Found("component", string(component, "uuid"), string(component, "title"), component)
    for requirement in dicts(child(body, "control-implementation"), "implemented-requirements"):
        cid = string(requirement, "control-id")
        yield Found("implemented-requirement", cid, cid, requirement)


def assessment_plan_objects(body: dict[str, Any]) -> Iterator[Found]:
    yield from _tasks(dicts(body, "tasks"), {})
    for activity in dicts(child(body, "local-definitions"), "activities"):
        yield Found("activity", string(activity, "uuid"), string(activity, "title"), activity)


def _tasks(tasks: list[dict[str, Any]], context: Context) -> Iterator[Found]:
    for task in tasks:
        yield Found("task", string(task, "uuid"), string(task, "title"), task, dict(context), frozenset({"tasks"}))
        yield from _tasks(dicts(task, "tasks"), {"parent-task-uuid": string(task, "uuid")})


_RESULT_PARTS = ("finding", "observation", "risk")


def assessment_results_objects(body: dict[str, Any]) -> Iterator[Found]:
    for result in dicts(body, "results"):
        nested = frozenset(f"{part}s" for part in _RESULT_PARTS)
        yield Found("result", string(result, "uuid"), string(result, "title"), result, {}, nested)
        context = {"result-uuid": string(result, "uuid"), "result-title": string(result, "title")}
        for part in _RESULT_PARTS:
            for item in dicts(result, f"{part}s"):
                yield Found(part, string(item, "uuid"), string(item, "title"), item, dict(context))


def poam_objects(body: dict[str, Any]) -> Iterator[Found]:
    for item in dicts(body, "poam-items"):
        yield Found("poam-item", string(item, "uuid"), string(item, "title"), item)
    for part in _RESULT_PARTS:
        for item in dicts(body, f"{part}s"):
            yield Found(part, string(item, "uuid"), string(item, "title"), item)


def mapping_objects(body: dict[str, Any]) -> Iterator[Found]:
    for mapping in dicts(body, "mappings"):
        context = {
            "mapping-uuid": string(mapping, "uuid"),
            "source-resource": string(child(mapping, "source-resource"), "href"),
            "target-resource": string(child(mapping, "target-resource"), "href"),
        }
        for entry in dicts(mapping, "maps"):
            yield Found("map", string(entry, "uuid"), _map_title(entry), entry, dict(context))


def _map_title(entry: dict[str, Any]) -> str:
    sources = ", ".join(string(s, "id-ref") for s in dicts(entry, "sources"))
    targets = ", ".join(string(t, "id-ref") for t in dicts(entry, "targets"))
    return f"{sources} {string(entry, 'relationship') or '->'} {targets}".strip()


FINDERS: dict[str, Finder] = {
    "catalog": catalog_objects,
    "profile": profile_objects,
    "component-definition": component_definition_objects,
    "system-security-plan": ssp_objects,
    "assessment-plan": assessment_plan_objects,
    "assessment-results": assessment_results_objects,
    "plan-of-action-and-milestones": poam_objects,
    "mapping-collection": mapping_objects,
}


def objects_of(model: str, body: dict[str, Any], kind: str | None = None) -> Iterator[Found]:
    """The objects of interest of one document of `model`, all kinds or only `kind`, in document order."""
    finder = FINDERS.get(model)
    if finder is None:
        return
    for found in finder(body):
        if kind is None or found.kind == kind:
            yield found
