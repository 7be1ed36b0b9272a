from __future__ import annotations

import json
import re
import time

import pytest
from jsonschema import Draft202012Validator

from oscal_mcp.tools.models import MODEL_NAMES
from oscal_mcp.tools.schemas import SCHEMA_NAMES, model_schema
from tests.tools.conftest import Connect, error_text, structured
from tests.tools.documents import catalog


@pytest.mark.anyio
async def test_schema_of_a_model_names_its_oscal_version_and_generator(connect: Connect) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("get_oscal_schema", {"model": "catalog"}))
    assert result["model"] == "catalog"
    assert result["format"] == "json"
    assert result["oscal_version"].startswith("1.")
    assert "compliance-trestle" in result["generator"]
    schema = result["json_schema"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["catalog"]
    assert "$schema" in schema["properties"]
    Draft202012Validator.check_schema(schema)


@pytest.mark.anyio
async def test_complete_schema_accepts_any_model_and_rejects_unknown_roots(connect: Connect) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("get_oscal_schema", {"model": "complete"}))
    validator = Draft202012Validator(result["json_schema"])
    assert validator.is_valid(catalog())
    assert validator.is_valid({"$schema": "x.json", **catalog()})
    assert not validator.is_valid({"catalogue": {}})


@pytest.mark.anyio
async def test_a_format_that_cannot_be_served_is_an_error_listing_the_available_ones(connect: Connect) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool("get_oscal_schema", {"model": "catalog", "format": "xsd"}))
    assert "'xsd' is not available" in text
    assert "available formats: json" in text


@pytest.mark.anyio
async def test_an_unknown_model_is_an_error_listing_the_valid_ones(connect: Connect) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool("get_oscal_schema", {"model": "catalogue"}))
    assert "unknown OSCAL model 'catalogue'" in text
    assert all(name in text for name in [*MODEL_NAMES, "complete"])


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_schema_is_a_valid_json_schema(name: str) -> None:
    schema = model_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["required"] == [name]


def test_schemas_are_generated_once_and_cached() -> None:
    model_schema("profile")
    started = time.perf_counter()
    for _ in range(100):
        model_schema("profile")
    assert time.perf_counter() - started < 0.01


@pytest.mark.anyio
async def test_schemas_are_sent_as_compact_json_of_the_size_the_description_states(connect: Connect) -> None:
    async with connect() as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        results = {name: await client.call_tool("get_oscal_schema", {"model": name}) for name in SCHEMA_NAMES}
    description = tools["get_oscal_schema"].description or ""
    low, high = (int(n) for n in re.search(r"(\d+)-(\d+) KB of compact JSON per\s+model", description).groups())  # type: ignore[union-attr]
    complete = int(re.search(r"and (\d+) KB for \"complete\"", description).group(1))  # type: ignore[union-attr]
    for name, result in results.items():
        text = result.content[0].text  # type: ignore[union-attr]
        assert "\n" not in text and json.loads(text) == structured(result)
        size = len(text) / 1000
        if name == "complete":
            assert abs(size - complete) <= complete * 0.1, size
        else:
            assert low <= size <= high, (name, size)
