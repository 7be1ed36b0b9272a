"""The Metaschema knowledge tools in an in-memory session: answers, pages, sizes and errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.tools.conftest import Connect, error_text, structured

MAX_DEFAULT_ANSWER = 8 * 1024


async def _call(connect: Connect, tool: str, **arguments: Any) -> dict[str, Any]:
    async with connect() as client:
        return structured(await client.call_tool(tool, arguments))


@pytest.mark.anyio
async def test_a_component_type_lists_nists_types_and_allows_others(connect: Connect) -> None:
    answer = await _call(connect, "get_oscal_allowed_values", place="component/@type")
    values = {v["value"] for v in answer["values"]}
    assert {"this-system", "software", "service"} <= values
    assert answer["others_allowed"] is True


@pytest.mark.anyio
async def test_a_place_without_rules_says_any_value_is_allowed(connect: Connect) -> None:
    answer = await _call(connect, "get_oscal_allowed_values", place="control/title")
    assert answer["values"] == [] and answer["others_allowed"] is True
    assert answer["note"].startswith("No allowed-values constraint of NIST's Metaschema reaches this place")


@pytest.mark.anyio
async def test_allowed_values_are_paginated(connect: Connect) -> None:
    first = await _call(connect, "get_oscal_allowed_values", place="component/@type", limit=5)
    second = await _call(connect, "get_oscal_allowed_values", place="component/@type", limit=5, offset=5)
    assert len(first["values"]) == 5 and first["next_offset"] == 5 and first["total"] > 10
    assert not {v["value"] for v in first["values"]} & {v["value"] for v in second["values"]} - {"software"}


@pytest.mark.anyio
async def test_constraints_of_a_definition_can_be_filtered_by_kind(connect: Connect) -> None:
    answer = await _call(connect, "list_oscal_constraints", definition="control", kind="expect")
    found = {c["constraint_id"]: c for c in answer["constraints"]}
    assert set(found) == {
        "oscal-catalog-control-require-statement-when-appropriate",
        "oscal-method-part-has-method-prop",
    }
    statement = found["oscal-catalog-control-require-statement-when-appropriate"]
    assert statement["level"] == "ERROR" and statement["detail"].startswith("test: prop[@name='status']")
    assert found["oscal-method-part-has-method-prop"]["level"] == "WARNING"


@pytest.mark.anyio
async def test_what_refers_to_a_party_and_a_role(connect: Connect) -> None:
    parties = await _call(connect, "find_oscal_references", definition="party", limit=50)
    roles = await _call(connect, "find_oscal_references", definition="role", limit=50)
    assert "oscal-metadata-responsible-party-index-metadata-role-id" in {r["referrer_id"] for r in roles["references"]}
    assert "oscal-index-metadata-party-uuid" in {r["referrer_id"] for r in parties["references"]}


@pytest.mark.anyio
async def test_a_page_stopped_by_its_size_says_where_and_the_next_page_goes_on(connect: Connect) -> None:
    first = await _call(connect, "list_oscal_constraints", definition="component", limit=50)
    shown = len(first["constraints"])
    assert shown < min(50, first["total"]) and first["next_offset"] == shown
    assert f"pass offset={shown}" in first["cut"]
    assert len(json.dumps(first)) <= MAX_DEFAULT_ANSWER
    rest = await _call(connect, "list_oscal_constraints", definition="component", limit=50, offset=shown)
    both = [(c["constraint_id"], c["defined_on"]) for c in first["constraints"] + rest["constraints"]]
    assert len(set(both)) == len(both)  # NIST reuses an id on another definition: the pair is the identity


@pytest.mark.anyio
async def test_the_1_2_1_modules_can_be_asked(connect: Connect) -> None:
    answer = await _call(connect, "get_oscal_definition", name="control", oscal_version="1.2.1")
    assert answer["oscal_version"] == "1.2.1" and answer["definitions"][0]["formal_name"] == "Control"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("get_oscal_allowed_values", {"place": "link/@rel"}),
        ("get_oscal_allowed_values", {"place": "system-characteristics/prop/@name"}),
        ("list_oscal_constraints", {"definition": "system-security-plan"}),
        ("list_oscal_constraints", {"definition": "metadata"}),
        ("find_oscal_references", {"definition": "resource"}),
        ("get_oscal_definition", {"name": "metadata"}),
        ("get_oscal_definition", {"name": "title"}),
    ],
)
async def test_default_answers_stay_within_8_kb(connect: Connect, tool: str, arguments: dict[str, Any]) -> None:
    answer = await _call(connect, tool, **arguments)
    assert len(json.dumps(answer)) <= MAX_DEFAULT_ANSWER
    assert answer["total"] >= 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        (
            "get_oscal_allowed_values",
            {"place": "gizmo/@name"},
            "no OSCAL 1.2.3 definition or element is called 'gizmo'",
        ),
        ("get_oscal_definition", {"name": "control", "oscal_version": "9.9"}, "no Metaschema modules for OSCAL '9.9'"),
        (
            "list_oscal_constraints",
            {"definition": "control", "kind": "unique"},
            "kind 'unique' is not a constraint kind",
        ),
    ],
)
async def test_bad_questions_say_what_would_work(
    connect: Connect, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool(tool, arguments))
    assert expected in text
