"""Every identified object of every stored document, found by its id in one dictionary look-up.

An OSCAL object is identified by an ``id`` (controls, groups, parts, params, roles...) or a
``uuid`` (components, capabilities, parties, tasks, findings, POA&M items, mappings, back-matter
resources...). `walk_identified` finds them all in one walk of a document, whatever its model; its
kind is named after the array that holds it (``parties`` -> ``party``). Objects without an id of
their own that the search index lists (a profile's imports, set-parameters and alters, an SSP's
system characteristics) are reachable by a path id ``<document uuid>/<kind>/<ref>``.

An object's *canonical id* is its bare id when no other stored object has it, else
``<document uuid>/<id>``; search hits carry exactly that id, and `IdIndex.locate` accepts it, the
bare id (the first document in store order wins, the others are named), and a control id in any
spelling (``AC-2(1)``, ``ac-02.1``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from oscal_mcp.oscal.catalogs import normalize_control_id

MAX_WALK_DEPTH = 64


def kind_of(array_key: str) -> str:
    """The kind of the objects an array holds, after its key: ``parties`` -> ``party``."""
    if array_key.endswith("ies"):
        return array_key[:-3] + "y"
    if array_key.endswith("s") and not array_key.endswith("ss"):
        return array_key[:-1]
    return array_key


@dataclass(frozen=True, eq=False)
class Located:
    """One object: the store number of its document, its kind, its own id, the object itself and
    the identified object it sits in (kind and id), if any."""

    document: int
    document_uuid: str
    kind: str
    id: str
    obj: dict[str, Any]
    parent: tuple[str, str] | None = None
    path_only: bool = False  # no id of its own: `id` is ``<kind>/<ref>``, named only with its document

    @property
    def title(self) -> str:
        if self.kind == "document":
            metadata = self.obj.get("metadata")
            return str(metadata.get("title") or self.id) if isinstance(metadata, dict) else self.id
        if self.kind == "part":  # a part's name is its role (statement, guidance, item)
            name = self.obj.get("name")
            return f"{self.id} ({name})" if isinstance(name, str) and name else self.id
        for key in ("title", "name", "system-name", "param-id", "control-id", "label"):
            value = self.obj.get(key)
            if isinstance(value, str) and value:
                return value
        return self.id


def own_id(obj: dict[str, Any]) -> str:
    """An object's ``id``, else its ``uuid``, else ``""``."""
    for key in ("id", "uuid"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def walk_identified(document: int, document_uuid: str, body: dict[str, Any]) -> Iterator[Located]:
    """Every object with an id or uuid below a document's root object, depth first, document order."""
    pending: list[tuple[Any, str, tuple[str, str] | None, int]] = [
        (value, key, None, 1) for key, value in reversed(list(body.items()))
    ]
    while pending:
        node, key, parent, depth = pending.pop()
        if depth > MAX_WALK_DEPTH:
            continue
        if isinstance(node, list):
            pending.extend((item, key, parent, depth + 1) for item in reversed(node))
        elif isinstance(node, dict):
            ident = own_id(node)
            here = parent
            if ident:
                located = Located(document, document_uuid, kind_of(key), ident, node, parent)
                yield located
                here = (located.kind, ident)
            pending.extend((value, k, here, depth + 1) for k, value in reversed(list(node.items())))


@dataclass
class IdIndex:
    """Lower-cased id -> the objects that carry it, in store order."""

    by_key: dict[str, list[Located]] = field(default_factory=dict)

    def add(self, key: str, located: Located) -> None:
        self.by_key.setdefault(key.lower(), []).append(located)

    def add_document_objects(self, document: int, document_uuid: str, body: dict[str, Any]) -> None:
        for located in walk_identified(document, document_uuid, body):
            self.add(located.id, located)
            self.add(f"{document_uuid}/{located.id}", located)

    def add_path_object(self, located: Located) -> None:
        """An object without an id of its own, named ``<document uuid>/<kind>/<ref>``."""
        self.add(f"{located.document_uuid}/{located.id}", located)

    def canonical(self, located: Located) -> str:
        """The id that names `located` alone: its bare id when unique, else qualified by its document."""
        if not located.path_only and len(self.by_key.get(located.id.lower(), ())) == 1:
            return located.id
        return f"{located.document_uuid}/{located.id}"

    @staticmethod
    def url(located: Located) -> str:
        """A stable URI of `located`: ``oscal://<document uuid>/<id>`` (`locate` takes it back)."""
        if located.kind == "document":
            return f"oscal://{located.id}"
        return f"oscal://{located.document_uuid}/{located.id}"

    def of_object(self, document_uuid: str, obj: dict[str, Any], path_id: str) -> Located | None:
        """The entry of `obj` (same object, not an equal one) in the document `document_uuid`."""
        key = own_id(obj) or path_id
        return next((lo for lo in self.by_key.get(f"{document_uuid}/{key}".lower(), ()) if lo.obj is obj), None)

    def locate(self, raw: str) -> list[Located]:
        """The objects `raw` names (an exact id, a qualified id, ``oscal://`` URI or a control id in any
        spelling), best first; empty when none."""
        key = raw.strip()
        if key.lower().startswith("oscal://"):
            key = key[len("oscal://") :]
        for candidate in (key.lower(), normalize_control_id(key)):
            found = self.by_key.get(candidate)
            if found:
                return found
        return []
