"""Any object by id (`get_oscal_object`), the search/fetch pair, and a profile as written, over the
bundled content, NIST's example documents and one made-up document of each model."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from oscal_mcp.config import load_settings
from oscal_mcp.server import build_server
from tests.tools.conftest import error_text, structured
from tests.tools.store_documents import write_documents

pytestmark = pytest.mark.anyio

NIST_EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "nist-examples"
PARTY = "3b2a5599-cc37-403f-ae36-5708fa804b27"  # ssp-example.json: Enterprise Asset Owners
POAM_ITEM = "e174dfb9-0ae3-4a8f-8e7c-081527b84337"
FINDING = "45d8a6c2-1368-4bad-9ba0-7141f0a32889"
TASK = "b3504d22-0e75-4dd7-9247-618661beba4e"
RESOURCE = "b78aa3ec-915d-475b-8097-46813fae1825"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    documents = write_documents(tmp_path / "documents")
    shutil.copytree(NIST_EXAMPLES, documents / "nist-examples", ignore=shutil.ignore_patterns("*.txt"))
    settings = load_settings({"OSCAL_FILE_ROOTS": str(tmp_path), "OSCAL_DOCUMENTS_DIR": str(documents)})
    async with Client(build_server(settings)) as session:
        yield session


async def get(client: Client, object_id: str, **extra: str) -> dict[str, Any]:
    return structured(await client.call_tool("get_oscal_object", {"id": object_id, **extra}))


async def test_a_control_is_found_by_every_spelling_with_its_document_and_parent(client: Client) -> None:
    answers = [await get(client, spelling) for spelling in ("ac-2.1", "AC-2(1)", "AC-2 (1)", "ac-02.1")]
    assert {a["id"] for a in answers} == {"ac-2.1"}
    first = answers[0]
    assert first["kind"] == "control" and first["title"] == "Automated System Account Management"
    assert first["document"]["source"].endswith("NIST_SP-800-53_rev5_catalog.json")
    assert first["parent"] == {"kind": "control", "id": "ac-2"} and first["url"].endswith("/ac-2.1")


async def test_a_control_comes_whole_with_its_enhancements_listed_by_id(client: Client) -> None:
    control = await get(client, "ac-2")
    assert control["clipped"] == [] and "controls" not in control["object"]
    assert control["members"]["controls"][:2] == ["ac-2.1", "ac-2.2"] and len(control["members"]["controls"]) == 13
    assert [p["name"] for p in control["object"]["parts"]][:2] == ["statement", "guidance"]


async def test_objects_of_every_model_are_found_by_id(client: Client) -> None:
    expected = {
        "ac": ("group", "Access Control"),
        "ac-2_smt.a": ("part", "ac-2_smt.a (item)"),
        "ac-2_prm_1": ("param", "organization-defined prerequisites and criteria"),
        PARTY: ("party", "Enterprise Asset Owners"),
        "asset-owner": ("role", "System Assets Owner"),
        POAM_ITEM: ("poam-item", "Update Django Framework Configuration to Disable Default Admin Panel"),
        FINDING: ("finding", "GoodRead AwesomeCloud Account's System Engineer Role Permits High Risk Actions"),
        TASK: ("task", "Examine Least Privilege Design and Implementation"),
    }
    found = {key: await get(client, key) for key in expected}
    assert {key: (a["kind"], a["title"]) for key, a in found.items()} == expected
    resource = await get(client, RESOURCE)
    assert resource["kind"] == "resource" and resource["document"]["model"] == "system-security-plan"


async def test_an_id_held_by_several_documents_is_qualified_by_its_document(client: Client) -> None:
    role = await get(client, "creator")  # the bundled catalog and each baseline define this role
    assert role["id"].endswith("/creator") and len(role["also"]) == 4
    again = await get(client, role["id"])
    assert again["document"] == role["document"] and again["object"] == role["object"]
    other = await get(client, role["also"][0])
    assert other["document"]["uuid"] != role["document"]["uuid"]
    scoped = await get(client, "creator", document=other["document"]["uuid"])
    assert scoped["id"] == other["id"]


async def test_every_search_hit_id_is_what_get_oscal_object_returns(client: Client) -> None:
    for text in ("account management", "privilege", "ocelotmap", "narwhalfix", "capybara"):
        page = structured(await client.call_tool("search_oscal", {"text": text}))
        for hit in page["hits"]:
            answer = await get(client, hit["id"])
            assert (answer["id"], answer["kind"]) == (hit["id"], hit["kind"]), text
            assert answer["document"]["source"] == hit["document"]


async def test_listing_summaries_carry_ids_and_leave_whole_objects_to_detail_full(client: Client) -> None:
    summary = structured(await client.call_tool("list_poam_items", {"poam": "ifa_plan-of-action-and-milestones"}))
    full = structured(
        await client.call_tool("list_poam_items", {"poam": "ifa_plan-of-action-and-milestones", "detail": "full"})
    )
    first = summary["objects"][0]
    assert first["object"] is None and first["id"] == POAM_ITEM and first["description"]
    assert full["objects"][0]["object"]["uuid"] == POAM_ITEM
    assert (await get(client, first["id"]))["object"] == full["objects"][0]["object"]


async def test_an_unknown_id_is_an_error_that_says_where_ids_come_from(client: Client) -> None:
    result = await client.call_tool("get_oscal_object", {"id": "zz-99"})
    assert "no object has the id 'zz-99'" in error_text(result) and "search_oscal" in error_text(result)


async def test_search_and_fetch_follow_the_connector_contract(client: Client) -> None:
    searched = await client.call_tool("search", {"query": "incident response"})
    assert not searched.is_error and len(searched.content) == 1 and searched.content[0].type == "text"
    results = json.loads(searched.content[0].text)["results"]
    assert results and all(set(r) == {"id", "title", "url"} for r in results)
    assert searched.structured_content == {"results": results}
    assert sum(r["id"].startswith("ir-") for r in results) >= 3
    fetched = await client.call_tool("fetch", {"id": "ir-4"})
    assert len(fetched.content) == 1 and fetched.content[0].type == "text"
    document = json.loads(fetched.content[0].text)
    assert set(document) == {"id", "title", "text", "url", "metadata"}
    assert document["id"] == "ir-4" and document["title"] == "ir-4 Incident Handling"
    assert "Statement:" in document["text"] and "Guidance:" in document["text"] and "ir-4.1" in document["text"]
    assert document["metadata"]["kind"] == "control" and document["metadata"]["model"] == "catalog"


async def test_a_profile_is_shown_as_written_with_its_rules_and_modifications(client: Client) -> None:
    moderate = structured(await client.call_tool("get_profile", {"profile": "moderate"}))
    tailored = structured(await client.call_tool("get_profile", {"profile": "capybara"}))
    rule = moderate["imports"][0]["include"][0]
    assert rule["with_id_count"] == moderate["imports"][0]["selected_ids"] > len(rule["with_ids"]) == 40
    assert moderate["imports"][0]["exclude"] == [] and moderate["imports"][0]["include_all"] is False
    imported = await get(client, moderate["imports"][0]["id"])
    assert imported["kind"] == "import" and len(imported["object"]["include-controls"][0]["with-ids"]) == 287
    setting = tailored["modifications"][0]
    assert tailored["set_parameter_count"] == 1 and setting["kind"] == "set-parameter"
    assert setting["target"] == "ac-2_prm_10" and (await get(client, setting["id"]))["kind"] == "set-parameter"
