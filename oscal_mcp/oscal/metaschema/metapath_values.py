"""What Metapath evaluation passes around (`metapath_eval.py`): the environment of one document,
the compiled form of an expression, and XPath's rules for sequences of items: effective boolean
value, node identity (a node sequence holds each node once) and document order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from oscal_mcp.oscal.metaschema.nodes import FlagRef, Item, Node


@dataclass
class Environment:
    """The document node, every node by name in document order (``//name`` from the top is a
    look-up), and whether ``doc()`` was asked for a document it could not have."""

    document: Node
    by_name: dict[str, list[Node]] = field(default_factory=dict)
    external_documents_skipped: bool = False
    # ``.//name`` from a node whose last descendant is unknown (built by hand): walked once
    descendants: dict[tuple[int, str], list[Node]] = field(default_factory=dict)


Compiled = Callable[[Item, Environment], list[Item]]


def truth(items: list[Item]) -> bool:
    """XPath's effective boolean value (XPath 3.1, section 2.4.3)."""
    if not items:
        return False
    first = items[0]
    if isinstance(first, (Node, FlagRef)):
        return True
    if isinstance(first, bool):
        return first
    if isinstance(first, str):
        return first != ""
    return first != 0


def _identity(item: Item) -> object:
    if isinstance(item, Node):
        return id(item)
    if isinstance(item, FlagRef):
        return (id(item.owner), item.name)
    return (type(item), item)


def distinct(items: list[Item]) -> list[Item]:
    """Each node once (a node sequence is a set in XPath), first occurrence kept."""
    if len(items) < 2:
        return items
    return list({_identity(item): item for item in items}.values())


def document_order(items: list[Item]) -> list[Item]:
    """Nodes in document order (a node before its flags); other items as they came."""
    if all(isinstance(item, (Node, FlagRef)) for item in items):
        return sorted(distinct(items), key=lambda item: (item.order, isinstance(item, FlagRef)))  # type: ignore[union-attr]
    return items
