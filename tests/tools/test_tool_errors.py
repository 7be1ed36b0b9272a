"""Bad input to the query tools is a tool error a user can act on: what was wrong and what to pass."""

from __future__ import annotations

import pytest

from tests.tools.conftest import Connect, error_text, structured

pytestmark = pytest.mark.anyio
SDK_PREFIX = "Error executing tool "

PAST_THE_END = [
    ("list_oscal_documents", {"offset": 500}),
    ("search_oscal", {"text": "account", "offset": 10_000}),
    ("list_catalog_controls", {"offset": 100_000}),
    ("resolve_profile", {"profile": "low", "offset": 5000}),
    ("list_components", {"offset": 999}),
    ("query_component_definition", {"query_type": "all", "offset": 999}),
    ("list_component_definitions", {"offset": 999}),
]


@pytest.mark.parametrize(("tool", "arguments"), PAST_THE_END)
async def test_an_offset_past_the_end_says_how_many_items_there_are(
    connect: Connect, tool: str, arguments: dict[str, object]
) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool(tool, arguments))
    assert f"offset {arguments['offset']} is past the end: there are " in text
    assert "or 0 for the first page" in text


async def test_offset_zero_of_an_empty_result_is_an_empty_page_not_an_error(connect: Connect) -> None:
    async with connect() as client:
        empty = structured(
            await client.call_tool("query_component_definition", {"query_type": "by_type", "value": "nothing-such"})
        )
    assert (empty["total"], empty["next_offset"], empty["matches"]) == (0, None, [])


async def test_a_missing_enhancement_names_the_enhancements_its_control_has(connect: Connect) -> None:
    async with connect() as client:
        missing = error_text(await client.call_tool("get_catalog_control", {"control_id": "AC-2(99)"}))
        empty = error_text(await client.call_tool("get_catalog_control", {"control_id": "  "}))
    assert "no control 'AC-2(99)'" in missing and "ac-2 has 13 enhancement(s): ac-2.1 to ac-2.13" in missing
    assert empty.startswith(f"{SDK_PREFIX}get_catalog_control: control_id is empty; give a control id such as ac-2")


async def test_a_document_of_another_model_is_named_as_such(connect: Connect) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool("get_catalog_control", {"control_id": "ac-2", "catalog": "moderate"}))
    assert text.startswith(
        f"{SDK_PREFIX}get_catalog_control: 'moderate' names a profile, not a catalog: NIST Special Publication 800-53"
    )
    assert "list_oscal_documents with model='catalog'" in text


async def test_listing_a_model_with_no_document_loaded_says_where_to_add_one(connect: Connect) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool("list_poam_items", {}))
    assert text == (
        f"{SDK_PREFIX}list_poam_items: no plan-of-action-and-milestones document is loaded; "
        "add one to OSCAL_DOCUMENTS_DIR (list_oscal_documents shows what is)"
    )
