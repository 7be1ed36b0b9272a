"""Building the node view (`nodes.py`) of a JSON or YAML OSCAL document from the parsed Metaschema.

Each assembly or field becomes a node named by its instance's XML name, each flag a flag, a
field's value (its ``json-value-key`` property, or the plain JSON value) the node's text; arrays
and ``BY_KEY`` objects become one node per member. The JSON names to look for come from the
modules (``group-as`` names, use names, value keys). What the Metaschema does not know (a misspelt
key) is left out: the schema level reports it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from oscal_mcp.oscal.metaschema.metapath_shortcuts import selectable_names
from oscal_mcp.oscal.metaschema.model import Child, Definition
from oscal_mcp.oscal.metaschema.nodes import FlagRef, Node, PathParts
from oscal_mcp.oscal.metaschema.registry import Metaschema


@dataclass
class DocumentView:
    """The document node (above the root assembly), and every node by definition key (flags too,
    where their definition has constraints)."""

    document: Node
    root: Node
    by_definition: dict[str, list[Node | FlagRef]] = field(default_factory=lambda: defaultdict(list))
    by_name: dict[str, list[Node]] = field(default_factory=lambda: defaultdict(list))


def scalar_text(value: object) -> str | None:
    """A JSON scalar as XML text (``true``, ``12``); None for objects and arrays."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def build_view(document: object, metaschema: Metaschema) -> DocumentView | None:
    """The view of `document` (``{"catalog": {...}}``); None when its root is not an OSCAL model."""
    if not isinstance(document, Mapping):
        return None
    roots = [key for key in document if key in metaschema.roots]
    if len(roots) != 1 or not isinstance(document[roots[0]], Mapping):
        return None
    root_name = roots[0]
    definition = metaschema.roots[root_name]
    top = Node("", None, (), "", 0)
    root = Node(root_name, top, (root_name,), definition.key, 1)
    top.add(root)
    view = DocumentView(document=top, root=root)
    view.by_definition[definition.key].append(root)
    view.by_name[root_name].append(root)
    builder = _Builder(metaschema, view)
    builder.assembly(root, document[root_name], definition)
    top.last = root.last = builder.last_order
    return view


@dataclass(frozen=True)
class _Plan:
    """What to look for in one definition's JSON object: flag names (with whether the flag's
    definition has constraints) and child instances by JSON name."""

    definition: Definition
    constrained: bool
    flags: dict[str, str | None]  # flag name -> its definition's key when that has constraints
    children: dict[str, tuple[Child, Definition]]  # only those a constraint can see (`_visible`)


@cache
def _plan_cache(version: str) -> dict[str, _Plan]:
    """The plans of one module set, kept across documents (filled as definitions are met)."""
    return {}


class _Builder:
    def __init__(self, metaschema: Metaschema, view: DocumentView) -> None:
        self._definitions = metaschema.definitions
        self._view = view
        self._order = 1
        self._plans = _plan_cache(metaschema.version)
        self._named = selectable_names(metaschema)

    @property
    def last_order(self) -> int:
        return self._order

    def _plan(self, definition: Definition) -> _Plan:
        plan = self._plans.get(definition.key)
        if plan is None:
            known = self._definitions
            plan = _Plan(
                definition=definition,
                constrained=bool(definition.constraints),
                flags={
                    f.name: f.definition if f.definition in known and known[f.definition].constraints else None
                    for f in definition.flags
                },
                children={
                    c.json_name: (c, known[c.definition])
                    for c in definition.children
                    if c.definition in known and self._visible(c, known[c.definition])
                },
            )
            self._plans[definition.key] = plan
        return plan

    def assembly(
        self, node: Node, content: Mapping[str, Any], definition: Definition, plan: _Plan | None = None
    ) -> None:
        plan = plan or self._plan(definition)
        for key, value in content.items():
            if key in plan.flags:
                self._flag(node, plan, key, value)
            else:
                found = plan.children.get(key)
                if found is not None:
                    self._child(node, found[0], found[1], value)

    def _visible(self, child: Child, definition: Definition) -> bool:
        """Whether a constraint can ever see instances of `child`. A field no expression names, with
        no constraint of its own or on its flags, is a leaf nothing selects (no module uses ``*``):
        leaving it out (descriptions, remarks, prose...) changes no result and saves building it."""
        if child.kind == "assembly" or self._named is None or child.xml_name in self._named:
            return True
        flags = (self._definitions.get(flag.definition) for flag in definition.flags)
        return bool(definition.constraints) or any(flag is not None and flag.constraints for flag in flags)

    def _child(self, parent: Node, child: Child, definition: Definition, value: Any) -> None:
        plan = self._plan(definition)
        name, key, is_field = child.xml_name, definition.key, child.kind == "field"
        by_name = self._view.by_name[name]
        constrained = self._view.by_definition[key] if plan.constrained else None
        for item, step in _items(child, value, definition):
            self._order += 1
            node = Node(name, parent, step, key, self._order)
            parent.add(node)
            by_name.append(node)
            if constrained is not None:
                constrained.append(node)
            if is_field:
                self._field(node, plan, item)
            elif _is_mapping(item):
                self.assembly(node, item, definition, plan)
            node.last = self._order

    def _flag(self, node: Node, plan: _Plan, name: str, value: Any) -> None:
        # Numbers stay numbers: Metapath compares typed flags (``@start > @end`` on integers).
        text = value if type(value) in (str, int, float) else scalar_text(value)
        if text is not None:
            node.set_flag(name, text)
            constrained = plan.flags[name]
            if constrained is not None:
                self._view.by_definition[constrained].append(FlagRef(node, name))

    def _field(self, node: Node, plan: _Plan, value: Any) -> None:
        if _is_mapping(value):
            for key, item in value.items():
                if key in plan.flags:
                    self._flag(node, plan, key, item)
            node.text = scalar_text(value.get(plan.definition.value_key))
            node.value_key = plan.definition.value_key
        else:
            node.text = value if type(value) is str else scalar_text(value)


def _is_mapping(value: object) -> bool:
    """`isinstance(value, Mapping)`, quick for the plain dicts a parsed document is made of."""
    return type(value) is dict or isinstance(value, Mapping)


def _items(child: Child, value: Any, definition: Definition) -> list[tuple[Any, PathParts]]:
    """The instances a JSON value holds, each with its JSON path from the parent: one, each of an
    array, or each of a ``BY_KEY`` object (whose keys are the `json-key` flag's values)."""
    name = child.json_name
    if child.in_json == "BY_KEY" and isinstance(value, Mapping) and definition.json_key:
        return [
            ({**item, definition.json_key: key}, (name, key))
            for key, item in value.items()
            if isinstance(item, Mapping)
        ]
    if isinstance(value, list):
        return [(item, (name, index)) for index, item in enumerate(value)]
    return [(value, (name,))]
