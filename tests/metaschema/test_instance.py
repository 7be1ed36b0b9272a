"""The document view: JSON names from the modules, paths kept, leaves no constraint sees left out."""

from __future__ import annotations

from collections import OrderedDict
from types import MappingProxyType

import pytest

from oscal_mcp.oscal.metaschema.instance import DocumentView, build_view, scalar_text
from oscal_mcp.oscal.metaschema.metapath_shortcuts import selectable_names
from oscal_mcp.oscal.metaschema.model import UNBOUNDED, Child, Definition, Flag
from oscal_mcp.oscal.metaschema.nodes import FlagRef
from oscal_mcp.oscal.metaschema.registry import Metaschema, load_metaschema
from tests.metaschema.corpus import fresh


def test_json_names_become_xml_names_with_their_json_paths() -> None:
    view = build_view(fresh("system-security-plan"), load_metaschema("1.2.3"))
    assert view is not None
    component = view.by_name["component"][1]
    assert component.path == ("system-security-plan", "system-implementation", "components", 1)
    assert component.flags["type"] == "software"  # the flag instance's own use name
    (prop,) = component.by_name["prop"]
    assert prop.path[-2:] == ("props", 0) and prop.flags == {"name": "version", "value": "2.4"}


def test_leaf_fields_no_constraint_can_select_are_left_out() -> None:
    metaschema = load_metaschema("1.2.3")
    names = selectable_names(metaschema)
    assert names is not None and "title" in names and "description" not in names
    view = build_view(fresh("system-security-plan"), metaschema)
    assert view is not None
    assert "description" not in view.by_name and "remarks" not in view.by_name
    assert view.by_name["title"]  # named by a constraint (an expect test): kept


def test_anything_but_an_oscal_document_has_no_view() -> None:
    metaschema = load_metaschema("1.2.3")
    assert build_view([], metaschema) is None
    assert build_view({"catalog": [], "x": 1}, metaschema) is None
    assert build_view({"not-oscal": {}}, metaschema) is None


def _catalog_view() -> DocumentView:
    document = {
        "catalog": {
            "uuid": True,  # a JSON scalar that is not text becomes XML text
            "metadata": {"title": 12, "props": [{"name": "marking", "value": "x"}]},
            "back-matter": {
                "resources": [
                    {"uuid": "r", "rlinks": [{"href": "a", "hashes": [{"algorithm": "SHA-256", "value": "abc"}]}]}
                ]
            },
            "misspelt-key": {"title": "never seen"},
        }
    }
    view = build_view(document, load_metaschema("1.2.3"))
    assert view is not None
    return view


def test_nodes_are_numbered_in_document_order_and_know_their_last_descendant() -> None:
    view = _catalog_view()
    nodes = view.document.descendants_or_self()
    assert [(n.name, n.order, n.last) for n in nodes] == [
        ("", 0, 8),
        ("catalog", 1, 8),
        ("metadata", 2, 4),
        ("title", 3, 3),
        ("prop", 4, 4),
        ("back-matter", 5, 8),
        ("resource", 6, 8),
        ("rlink", 7, 8),
        ("hash", 8, 8),
    ]
    assert view.root is nodes[1] and view.root.parent is view.document
    assert {name: [n.order for n in found] for name, found in view.by_name.items()} == {
        "catalog": [1],
        "metadata": [2],
        "title": [3],
        "prop": [4],
        "back-matter": [5],
        "resource": [6],
        "rlink": [7],
        "hash": [8],
    }


def test_paths_index_array_members_and_name_single_objects() -> None:
    view = _catalog_view()
    (metadata,) = view.by_name["metadata"]
    (hash_node,) = view.by_name["hash"]
    assert metadata.path == ("catalog", "metadata")
    assert hash_node.path == ("catalog", "back-matter", "resources", 0, "rlinks", 0, "hashes", 0)
    assert [node.definition for node in (metadata, hash_node)] == ["assembly:metadata", "field:hash"]


def test_a_field_given_as_an_object_keeps_its_flags_and_its_value_key() -> None:
    (hash_node,) = _catalog_view().by_name["hash"]
    assert hash_node.flags == {"algorithm": "SHA-256"}
    assert hash_node.text == "abc" and hash_node.value_key == "value"


def test_scalars_that_are_not_text_become_xml_text() -> None:
    view = _catalog_view()
    assert view.root.flags == {"uuid": "true"}
    assert view.by_name["title"][0].text == "12"


def test_nodes_and_flags_of_constrained_definitions_are_listed_by_definition() -> None:
    view = _catalog_view()
    (hash_node,) = view.by_name["hash"]
    assert view.by_definition["field:hash"] == [hash_node]
    assert view.by_definition["field:hash/@algorithm"] == [FlagRef(hash_node, "algorithm")]
    assert view.by_definition["assembly:catalog"] == [view.root]
    assert "assembly:metadata/title" not in view.by_definition  # a title has no constraint of its own


def test_keys_the_metaschema_does_not_know_are_left_out() -> None:
    view = _catalog_view()
    assert [child.name for child in view.root.children] == ["metadata", "back-matter"]
    assert len(view.by_name["title"]) == 1


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        (12, "12"),
        (1.5, "1.5"),
        ("x", "x"),
        ({"a": 1}, None),
        ([1], None),
        (None, None),
    ],
)
def test_a_json_scalar_is_xml_text_and_anything_else_is_none(value: object, text: str | None) -> None:
    assert scalar_text(value) == text


def test_flags_given_as_numbers_stay_numbers() -> None:
    props = [{"name": "n", "value": 3}, {"name": "n", "value": 2.5}, {"name": "n", "value": None}]
    view = build_view({"catalog": {"uuid": "u", "metadata": {"props": props}}}, load_metaschema("1.2.3"))
    assert view is not None
    assert [dict(prop.flags) for prop in view.by_name["prop"]] == [
        {"name": "n", "value": 3},
        {"name": "n", "value": 2.5},
        {"name": "n"},  # null is no value: the flag is absent
    ]


def _keyed_metaschema() -> Metaschema:
    """Definitions of our own (OSCAL uses no ``BY_KEY`` group): an item's key is its json-key flag."""
    item = Definition(
        "assembly:test-keyed-item", "assembly", "item", "test", "Item", "", flags=(Flag("id", "flag:id", True),),
        json_key="id",
    )  # fmt: skip
    root = Definition(
        "assembly:test-keyed-root", "assembly", "keyed", "test", "Keyed", "", root_name="keyed",
        children=(
            Child("assembly", item.key, "item", "items", 0, UNBOUNDED, in_json="BY_KEY"),
            Child("assembly", item.key, "listed", "listed", 0, UNBOUNDED),
            Child("assembly", item.key, "one", "one", 0, 1),
        ),
    )  # fmt: skip
    real = load_metaschema("1.2.3")  # the version names the real constraints, whose names the view keeps
    return Metaschema(real.version, {**real.definitions, item.key: item, root.key: root}, {"keyed": root})


def test_a_by_key_group_gives_one_node_per_key_with_the_key_as_its_flag() -> None:
    document = {"keyed": {"items": {"a": {}, "b": {"id": "ignored"}, "c": "not an object"}}}
    view = build_view(document, _keyed_metaschema())
    assert view is not None
    assert [(n.path, dict(n.flags)) for n in view.by_name["item"]] == [
        (("keyed", "items", "a"), {"id": "a"}),
        (("keyed", "items", "b"), {"id": "b"}),
    ]


def test_a_field_no_expression_names_is_kept_when_its_flag_has_constraints() -> None:
    document = fresh("assessment-results")
    risk = {
        "uuid": "00000000-0000-4000-8000-000000006100",
        "title": "Weak passwords",
        "description": "Passwords are short.",
        "statement": "Accounts can be guessed.",
        "status": "open",
        "threat-ids": [{"system": "http://fedramp.gov", "id": "https://example.com/threats/1"}],
    }
    document["assessment-results"]["results"][0]["risks"] = [risk]
    view = build_view(document, load_metaschema("1.2.3"))
    assert view is not None
    (threat,) = view.by_name["threat-id"]  # the system flag's allowed values must be checked
    assert threat.flags == {"system": "http://fedramp.gov"} and threat.text == "https://example.com/threats/1"
    assert view.by_definition["field:threat-id/@system"] == [FlagRef(threat, "system")]


def test_only_definitions_with_constraints_are_listed() -> None:
    assert set(_catalog_view().by_definition) == {
        "assembly:catalog",
        "assembly:metadata",
        "assembly:property",
        "assembly:back-matter",
        "assembly:back-matter/resource",
        "field:hash",
        "field:hash/@algorithm",
    }


def test_a_keyed_definition_outside_a_by_key_group_is_an_array_or_one_object() -> None:
    document = {"keyed": {"listed": [{"id": "x"}, {"id": "y"}], "one": {"id": "z"}}}
    view = build_view(document, _keyed_metaschema())
    assert view is not None
    assert [(n.path, dict(n.flags)) for n in view.by_name["listed"]] == [
        (("keyed", "listed", 0), {"id": "x"}),
        (("keyed", "listed", 1), {"id": "y"}),
    ]
    assert [(n.path, dict(n.flags)) for n in view.by_name["one"]] == [(("keyed", "one"), {"id": "z"})]


def test_any_mapping_is_an_object_not_only_a_dict() -> None:
    metadata = MappingProxyType({"props": [MappingProxyType({"name": "n", "value": "v"})]})
    view = build_view({"catalog": OrderedDict(uuid="u", metadata=metadata)}, load_metaschema("1.2.3"))
    assert view is not None
    assert [dict(prop.flags) for prop in view.by_name["prop"]] == [{"name": "n", "value": "v"}]


def test_the_document_node_has_no_definition_and_the_root_its_own() -> None:
    view = _catalog_view()
    assert (view.document.definition, view.root.definition) == ("", "assembly:catalog")
