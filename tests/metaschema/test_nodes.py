"""The node view Metapath runs over: children by name, JSON paths, document order and atomization."""

from __future__ import annotations

from oscal_mcp.oscal.metaschema.nodes import FlagRef, Node, atom, item_path, value_path


def _catalog() -> tuple[Node, Node, Node, Node]:
    top = Node("", None, (), "", 0)
    catalog = Node("catalog", top, ("catalog",), "catalog", 1)
    top.add(catalog)
    first = Node("prop", catalog, ("props", 0), "property", 2)
    catalog.add(first)
    group = Node("group", catalog, ("groups", 0), "group", 3)
    catalog.add(group)
    return top, catalog, first, group


def test_children_are_grouped_by_name_and_regrouped_after_an_add() -> None:
    _, catalog, first, group = _catalog()
    assert catalog.by_name == {"prop": [first], "group": [group]}
    second = Node("prop", catalog, ("props", 1), "property", 4)
    catalog.add(second)
    assert catalog.by_name["prop"] == [first, second]
    assert list(catalog.children) == [first, group, second]


def test_a_leaf_has_no_children_by_any_name() -> None:
    _, _, first, _ = _catalog()
    assert dict(first.by_name) == {} and first.children == ()


def test_flags_are_kept_per_node() -> None:
    _, catalog, first, _ = _catalog()
    first.set_flag("name", "label")
    first.set_flag("value", "AC-1")
    catalog.set_flag("id", "c")
    assert first.flags == {"name": "label", "value": "AC-1"} and catalog.flags == {"id": "c"}


def test_a_node_path_joins_the_steps_from_the_root() -> None:
    _, catalog, _, group = _catalog()
    part = Node("part", group, ("parts", 2), "part", 5)
    group.add(part)
    assert part.path == ("catalog", "groups", 0, "parts", 2)
    assert catalog.path == ("catalog",)
    assert repr(part) == "Node('part', ('catalog', 'groups', 0, 'parts', 2))"


def test_descendants_or_self_come_in_document_order() -> None:
    top, catalog, first, group = _catalog()
    control = Node("control", group, ("controls", 0), "control", 4)
    group.add(control)
    assert top.descendants_or_self() == [top, catalog, first, group, control]
    assert group.descendants_or_self() == [group, control]


def test_a_flag_reference_has_its_value_path_and_its_node_order() -> None:
    _, _, first, _ = _catalog()
    first.set_flag("name", "label")
    flag = FlagRef(first, "name")
    assert flag.value == "label" and flag.path == ("catalog", "props", 0, "name") and flag.order == 2
    assert FlagRef(first, "class").value == ""


def test_value_paths_name_the_value_key_of_an_object_field() -> None:
    _, catalog, first, _ = _catalog()
    hash_node = Node("hash", catalog, ("hashes", 0), "hash", 5)
    hash_node.value_key = "value"
    assert value_path(hash_node) == ("catalog", "hashes", 0, "value")
    assert value_path(first) == ("catalog", "props", 0) == item_path(first)
    assert value_path(FlagRef(first, "name")) == ("catalog", "props", 0, "name")
    assert item_path("text") == () and value_path(3) == ()


def test_atomization_gives_text_flag_values_or_the_value_itself() -> None:
    _, catalog, first, _ = _catalog()
    first.text = "some text"
    first.set_flag("name", 7)
    assert atom(first) == "some text"
    assert atom(catalog) == ""  # no text: the empty string, never None
    assert atom(FlagRef(first, "name")) == 7
    assert atom(2.5) == 2.5 and atom(True) is True
