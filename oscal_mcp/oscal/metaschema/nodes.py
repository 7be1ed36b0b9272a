"""The nodes Metapath is evaluated over: an XML-shaped view of a JSON document.

A `Node` is an assembly or field instance, named as in OSCAL's XML form (``props[3]`` is a
``prop``), with its flags, its value (a field's text) and its children by name; a `FlagRef` is
one flag of a node (``@name``). Every node knows its JSON path and its document position, so a
violation is reported at a path a user can find, and duplicates in document order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

PathParts = tuple[str | int, ...]
# Shared by every node without flags or children (most are leaves), never written to: fewer
# objects for the cyclic collector to count and walk (the view of SP 800-53 is 16,000 nodes).
_NO_FLAGS: Mapping[str, str | int | float] = MappingProxyType({})
_NO_NAMES: Mapping[str, list[Node]] = MappingProxyType({})


class Node:
    __slots__ = (
        "_by_name",
        "children",
        "definition",
        "flags",
        "last",
        "name",
        "order",
        "parent",
        "step",
        "text",
        "value_key",
    )

    def __init__(self, name: str, parent: Node | None, step: PathParts, definition: str, order: int) -> None:
        self.name = name
        self.parent = parent
        self.step = step  # the JSON path from the parent: ("props", 3), ("metadata",)
        self.definition = definition
        self.order = order
        self.flags = _NO_FLAGS  # replaced by its own dict at the first `set_flag`
        self.text: str | None = None
        self.value_key: str | None = None  # a field given as a JSON object keeps its value here
        self.children: Sequence[Node] = ()  # a list from the first `add`
        self._by_name: dict[str, list[Node]] | None = None
        # the order of its last descendant, once its subtree is complete (the view builder sets
        # it): its descendants are exactly the nodes ordered after it up to `last`
        self.last: int | None = None

    def add(self, child: Node) -> None:
        if isinstance(self.children, list):
            self.children.append(child)
        else:
            self.children = [child]
        self._by_name = None

    def set_flag(self, name: str, value: str | int | float) -> None:
        if isinstance(self.flags, dict):
            self.flags[name] = value
        else:
            self.flags = {name: value}

    @property
    def by_name(self) -> Mapping[str, list[Node]]:
        """The children by name, grouped at the first question (most nodes are never asked)."""
        if self._by_name is None:
            if not self.children:
                return _NO_NAMES
            grouped: dict[str, list[Node]] = {}
            for child in self.children:
                grouped.setdefault(child.name, []).append(child)
            self._by_name = grouped
        return self._by_name

    @property
    def path(self) -> PathParts:
        """The JSON path of this node (computed when a violation is reported)."""
        steps: list[PathParts] = []
        node: Node | None = self
        while node is not None:
            steps.append(node.step)
            node = node.parent
        return tuple(part for step in reversed(steps) for part in step)

    def descendants_or_self(self) -> list[Node]:
        found: list[Node] = []
        pending = [self]
        while pending:
            node = pending.pop()
            found.append(node)
            pending.extend(reversed(node.children))
        return found

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.path!r})"


class FlagRef(NamedTuple):
    """The flag `name` of `owner` (an XPath attribute node)."""

    owner: Node
    name: str

    @property
    def value(self) -> str | int | float:
        return self.owner.flags.get(self.name, "")

    @property
    def path(self) -> PathParts:
        return (*self.owner.path, self.name)

    @property
    def order(self) -> int:
        return self.owner.order


Item = Node | FlagRef | str | int | float | bool


def item_path(item: Item) -> PathParts:
    return item.path if isinstance(item, (Node, FlagRef)) else ()


def value_path(item: Item) -> PathParts:
    """The JSON path of an item's value: a flag's, or a field's (its value key when the field is
    an object, such as a hash's ``value``)."""
    if isinstance(item, Node) and item.value_key is not None:
        return (*item.path, item.value_key)
    return item_path(item)


def atom(item: Item) -> str | int | float | bool:
    """XPath atomization: a node's text, a flag's value, or the value itself."""
    if isinstance(item, Node):
        return item.text or ""
    if isinstance(item, FlagRef):
        return item.value
    return item
