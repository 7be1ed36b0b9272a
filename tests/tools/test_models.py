from __future__ import annotations

import importlib

import pytest

from oscal_mcp.oscal.models import MODEL_NAMES, MODELS, UnknownModelError, get_model, trestle_class
from oscal_mcp.oscal.schemas import bundled_versions, schema_json
from tests.tools.conftest import Connect, structured

EXPECTED_TOOLS = {
    "about",
    "list_oscal_models",
    "get_oscal_schema",
    "list_oscal_resources",
    "validate_oscal_content",
    "validate_oscal_file",
    "get_oscal_allowed_values",
    "list_oscal_constraints",
    "find_oscal_references",
    "get_oscal_definition",
    "list_component_definitions",
    "list_components",
    "query_component_definition",
    "list_capabilities",
    "query_capabilities",
    "get_capability",
    # the document store
    "list_oscal_documents",
    "search_oscal",
    "get_oscal_object",
    "search",
    "fetch",
    "search_oscal_docs",
    "read_oscal_doc",
    "list_catalog_groups",
    "list_catalog_controls",
    "get_catalog_control",
    "get_profile",
    "resolve_profile",
    "list_ssp_components",
    "list_ssp_implemented_requirements",
    "list_assessment_plan_tasks",
    "list_assessment_plan_activities",
    "list_assessment_findings",
    "list_poam_items",
    "list_control_mappings",
}


@pytest.mark.anyio
async def test_every_tool_is_listed_with_a_description_and_an_output_schema(connect: Connect) -> None:
    async with connect() as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == EXPECTED_TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 80, tool.name
        assert tool.output_schema is not None, tool.name


@pytest.mark.anyio
async def test_model_parameters_show_the_model_names_as_an_enum(connect: Connect) -> None:
    async with connect() as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    schema_enum = tools["get_oscal_schema"].input_schema["properties"]["model"]["enum"]
    assert schema_enum == [*MODEL_NAMES, "complete"]
    validate_enum = tools["validate_oscal_content"].input_schema["properties"]["model"]["enum"]
    assert validate_enum == [*MODEL_NAMES, None]
    assert tools["validate_oscal_content"].input_schema["properties"]["format"]["enum"] == ["json", "yaml"]


@pytest.mark.anyio
async def test_list_oscal_models_returns_the_eight_models_in_three_layers(connect: Connect) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("list_oscal_models", {}))
    models = {m["name"]: m for m in result["models"]}
    assert list(models) == [
        "catalog",
        "profile",
        "mapping-collection",
        "component-definition",
        "system-security-plan",
        "assessment-plan",
        "assessment-results",
        "plan-of-action-and-milestones",
    ]
    assert {m["layer"] for m in models.values()} == {"control", "implementation", "assessment"}
    assert models["system-security-plan"]["layer"] == "implementation"
    assert models["mapping-collection"]["introduced_in"] == "1.2.0"
    assert all(m["root_key"] == m["name"] and m["description"] and m["formal_name"] for m in models.values())
    assert result["oscal_version"] == result["oscal_schema_versions"][-1] == "1.2.3"
    assert result["oscal_schema_versions"] == ["1.2.1", "1.2.3"]
    assert result["model_oscal_version"] == "1.2.1"  # compliance-trestle 5's models


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_registry_matches_the_trestle_classes(model) -> None:  # type: ignore[no-untyped-def]
    root = importlib.import_module(model.trestle_module).Model
    ((field_name, field),) = root.model_fields.items()
    assert (field.alias or field_name) == model.root_key
    assert field.annotation is trestle_class(model.name)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
@pytest.mark.parametrize("version", bundled_versions())
def test_registry_names_each_models_nist_schema_file(model, version: str) -> None:  # type: ignore[no-untyped-def]
    schema = schema_json(model.name, version)
    assert schema["required"] == [model.root_key]
    assert schema["$id"].startswith(f"http://csrc.nist.gov/ns/oscal/{version}/")


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("SSP", "system-security-plan"),
        ("poam", "plan-of-action-and-milestones"),
        ("component_definition", "component-definition"),
        (" Catalog ", "catalog"),
    ],
)
def test_common_model_aliases_are_accepted(raw: str, name: str) -> None:
    assert get_model(raw).name == name


def test_an_unknown_model_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownModelError) as caught:
        get_model("catalogue")
    assert all(name in str(caught.value) for name in MODEL_NAMES)
