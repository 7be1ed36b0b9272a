"""Whole-object component and capability queries, on a document shaped like AWS's KMS definition.

The reference server's AWS archive is not bundled (it is not public-domain content); the test
document has the same shape: a service whose props carry ns/class/group and whose 33
"provided-by" links name the regions that offer it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.tools.conftest import Connect, error_text, structured
from tests.tools.documents import kms_like_component_definition

KMS_UUID = "e2647bfb-2655-4dc7-bfc9-bb95529c8712"


@pytest.fixture
def kms_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "aws"
    directory.mkdir()
    (directory / "kms.json").write_text(json.dumps(kms_like_component_definition()))
    return directory


async def query(client: Any, tool: str = "query_component_definition", **args: Any) -> dict[str, Any]:
    return structured(await client.call_tool(tool, args))


@pytest.mark.anyio
async def test_a_component_comes_back_whole_with_its_region_links(connect: Connect, kms_dir: Path) -> None:
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(kms_dir)) as client:
        found = await query(client, query_type="by_title", value="kms")
    (match,) = found["matches"]
    component = match["oscal"]
    expected = kms_like_component_definition()["component-definition"]["components"][0]
    assert component == expected  # every key, in OSCAL's hyphenated spelling
    regions = [link["text"] for link in component["links"] if link["rel"] == "provided-by"]
    assert len(regions) == 33 and regions[0] == "Region 00"
    assert component["props"][2] == {
        "name": "label",
        "value": "Key Management Service (KMS)",
        "class": "serviceFullName",
        "group": "service",
    }
    assert component["responsible-roles"] == [{"role-id": "provider"}]
    assert component["protocols"][0]["port-ranges"][0]["start"] == 443
    assert match["clipped"] == [] and match["definition_title"] == "Key Management Service (KMS)"


@pytest.mark.anyio
async def test_a_property_value_finds_its_component(connect: Connect, kms_dir: Path) -> None:
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(kms_dir)) as client:
        by_value = await query(client, query_type="by_property", value="AWS Key Management Service")
        by_name = await query(client, query_type="by_property", value="label=aws key management service")
        wrong_name = await query(client, query_type="by_property", value="service-id=AWS Key Management Service")
        searched = await query(client, query_type="search", value="aws key management")
        words = await query(client, query_type="search", value="management aws")
    for result in (by_value, by_name, searched, words):
        assert [m["oscal"]["title"] for m in result["matches"]] == ["KMS"], result
    assert wrong_name["total"] == 0


@pytest.mark.anyio
async def test_uuids_match_in_any_case(connect: Connect, kms_dir: Path) -> None:
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(kms_dir)) as client:
        upper = await query(client, query_type="by_uuid", value=KMS_UUID.upper())
        lower = await query(client, query_type="by_uuid", value=f"  {KMS_UUID}  ")
    assert [m["oscal"]["uuid"] for m in upper["matches"]] == [KMS_UUID]
    assert [m["oscal"]["uuid"] for m in lower["matches"]] == [KMS_UUID]


@pytest.mark.anyio
async def test_a_capability_is_found_by_uuid_and_by_name_and_comes_back_whole(connect: Connect, kms_dir: Path) -> None:
    capability = kms_like_component_definition()["component-definition"]["capabilities"][0]
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(kms_dir)) as client:
        by_uuid = await query(client, "query_capabilities", query_type="by_uuid", value=capability["uuid"].upper())
        by_name = await query(client, "query_capabilities", query_type="by_name", value="encryption AT REST")
        by_text = await query(client, "query_capabilities", query_type="search", value="keys objects")
        by_prop = await query(client, "query_capabilities", query_type="by_property", value="data-protection")
        got = structured(await client.call_tool("get_capability", {"uuid": capability["uuid"].upper()}))
    for result in (by_uuid, by_name, by_text, by_prop):
        (match,) = result["matches"]
        assert match["oscal"] == capability
    assert got["oscal"] == capability
    s3_uuid = capability["incorporates-components"][1]["component-uuid"]
    assert got["component_titles"] == {KMS_UUID: "KMS", s3_uuid: "S3"}


@pytest.mark.anyio
async def test_capability_queries_reject_component_only_query_types(connect: Connect) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool("query_capabilities", {"query_type": "by_type", "value": "x"}))
    assert "use one of: all, by_uuid, by_name, by_property, search" in text


@pytest.mark.anyio
async def test_a_search_without_a_match_is_an_empty_result(connect: Connect, kms_dir: Path) -> None:
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(kms_dir)) as client:
        result = await query(client, query_type="search", value="quantum teleporter")
    assert result["total"] == 0 and result["matches"] == [] and result["next_offset"] is None
