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
from typing import Any

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


def scalar_text(value: object) -> str | None:
    """A JSON scalar as XML text (``true``, ``12``); None for objects and arrays."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def build_view(document: Mapping[str, Any], metaschema: Metaschema) -> DocumentView | None:
    """The view of `document` (``{"catalog": {...}}``); None when its root is not an OSCAL model."""
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
    _Builder(metaschema, view).assembly(root, document[root_name], definition)
    return view


class _Builder:
    def __init__(self, metaschema: Metaschema, view: DocumentView) -> None:
        self._definitions = metaschema.definitions
        self._view = view
        self._order = 1
        self._constrained_flags = {
            key for key, d in metaschema.definitions.items() if d.kind == "flag" and d.constraints
        }

    def _node(self, name: str, parent: Node, path: PathParts, definition: Definition) -> Node:
        self._order += 1
        node = Node(name, parent, path, definition.key, self._order)
        parent.add(node)
        self._view.by_definition[definition.key].append(node)
        return node

    def assembly(self, node: Node, content: Mapping[str, Any], definition: Definition) -> None:
        self._flags(node, content, definition)
        for child in definition.children:
            if child.json_name in content:
                self._child(node, child, content[child.json_name], (*node.path, child.json_name))

    def _child(self, parent: Node, child: Child, value: Any, path: PathParts) -> None:
        definition = self._definitions.get(child.definition)
        if definition is None:
            return
        for item, item_path in _items(child, value, definition, path):
            node = self._node(child.xml_name, parent, item_path, definition)
            if child.kind == "field":
                self._field(node, item, definition)
            elif isinstance(item, Mapping):
                self.assembly(node, item, definition)

    def _flags(self, node: Node, content: Mapping[str, Any], definition: Definition) -> None:
        for flag in definition.flags:
            text = scalar_text(content.get(flag.name))
            if text is not None:
                node.flags[flag.name] = text
                if flag.definition in self._constrained_flags:
                    self._view.by_definition[flag.definition].append(FlagRef(node, flag.name))

    def _field(self, node: Node, value: Any, definition: Definition) -> None:
        if isinstance(value, Mapping):
            self._flags(node, value, definition)
            node.text = scalar_text(value.get(definition.value_key))
        else:
            node.text = scalar_text(value)


def _items(child: Child, value: Any, definition: Definition, path: PathParts) -> list[tuple[Any, PathParts]]:
    """The instances a JSON value holds: one, each of an array, or each of a ``BY_KEY`` object
    (whose keys are the `json-key` flag's values)."""
    if child.in_json == "BY_KEY" and isinstance(value, Mapping) and definition.json_key:
        return [
            ({**item, definition.json_key: key}, (*path, key))
            for key, item in value.items()
            if isinstance(item, Mapping)
        ]
    if isinstance(value, list):
        return [(item, (*path, index)) for index, item in enumerate(value)]
    return [(value, path)]
