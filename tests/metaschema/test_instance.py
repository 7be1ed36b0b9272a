"""The document view: JSON names from the modules, paths kept, leaves no constraint sees left out."""

from __future__ import annotations

from oscal_mcp.oscal.metaschema.instance import build_view
from oscal_mcp.oscal.metaschema.metapath_shortcuts import selectable_names
from oscal_mcp.oscal.metaschema.registry import load_metaschema
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
