"""Lookups in NIST's schemas that the schema-level messages rely on: the root definition, the array
properties of a definition (across anyOf/oneOf branches), definitions' descriptions, property names."""

from __future__ import annotations

from typing import Any

import pytest

from oscal_mcp.oscal import schemas

V = schemas.newest_version()
CATALOG = "#/definitions/oscal-catalog-oscal-catalog:catalog"
GROUP = "#/definitions/oscal-catalog-oscal-catalog:group"
DEF = "#/definitions/"


def test_the_newest_release_is_the_highest_version_bundled() -> None:
    versions = schemas.bundled_versions()
    assert versions == tuple(sorted(versions, key=lambda v: tuple(int(p) for p in v.split("."))))
    assert schemas.newest_version() == versions[-1]


def test_the_root_definition_of_each_model_is_found() -> None:
    assert schemas.root_pointer("catalog", V) == CATALOG
    assert schemas.root_pointer("profile", V) == "#/definitions/oscal-profile-oscal-profile:profile"


# The lookups are cached for the process: the tests call the functions behind the cache, so that what
# they check is computed here, not by whichever test came first.
array_properties = schemas.array_properties.__wrapped__  # type: ignore[attr-defined]
property_names = schemas.property_names.__wrapped__  # type: ignore[attr-defined]


def test_array_properties_list_arrays_of_one_definition_across_branches() -> None:
    assert array_properties("catalog", V, CATALOG) == {
        "params": DEF + "oscal-catalog-oscal-control-common:parameter",
        "controls": DEF + "oscal-catalog-oscal-catalog:control",
        "groups": DEF + "oscal-catalog-oscal-catalog:group",
    }
    group = array_properties("catalog", V, GROUP)  # groups and controls sit in two anyOf branches
    assert group["groups"] == DEF + "oscal-catalog-oscal-catalog:group"
    assert group["controls"] == DEF + "oscal-catalog-oscal-catalog:control"
    assert group["parts"] == DEF + "oscal-catalog-oscal-control-common:part"
    assert array_properties("catalog", V, DEF + "no-such-definition") == {}


def test_only_arrays_of_exactly_one_reference_agreed_on_by_every_branch_count(monkeypatch: pytest.MonkeyPatch) -> None:
    def array_of(ref: str, **extra: Any) -> dict[str, Any]:
        return {"type": "array", "items": {"$ref": ref, **extra}}

    definition = {
        "properties": {"a": array_of("#X"), "b": array_of("#Y", minItems=1), "c": {"type": "string"}},
        "anyOf": [{"properties": {"d": array_of("#Z")}}, {"properties": {"d": array_of("#Z"), "a": array_of("#W")}}],
        "oneOf": [{"properties": {"e": array_of("#V")}}, "not a branch", {"required": ["e"]}],
    }
    fake = {"definitions": {"thing": definition, "listed": ["not", "a", "definition"]}}
    monkeypatch.setattr(schemas, "schema_json", lambda name, version: fake)
    assert array_properties("x", "v", DEF + "thing") == {"d": "#Z", "e": "#V"}
    assert array_properties("x", "v", DEF + "listed") == {}


def test_a_definitions_description_is_nists_text() -> None:
    assert schemas.definition_description("catalog", V, "DateTimeWithTimezoneDatatype") == (
        "A string representing a point in time with a required timezone."
    )
    assert schemas.definition_description("catalog", V, "no-such-definition") is None


def test_property_names_gather_every_level_of_the_complete_schema() -> None:
    names = property_names(V)
    assert {"controls", "oscal-version", "back-matter", "href", "control-id"} <= names
    assert "definitions" not in names and "$ref" not in names


@pytest.mark.parametrize(
    "schema",
    [{}, {"properties": {}}, {"properties": {"catalog": "not an object"}}, {"properties": {"catalog": {"$ref": 5}}}],
)
def test_a_schema_without_a_usable_root_reference_has_no_root_pointer(
    monkeypatch: pytest.MonkeyPatch, schema: dict[str, Any]
) -> None:
    monkeypatch.setattr(schemas, "schema_json", lambda name, version: schema)
    assert schemas.root_pointer("catalog", "v") is None
