"""The document-store tools through an in-memory MCP session over the real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import oscal_mcp.oscal.store as store_module
from oscal_mcp.oscal.store import DocumentStore
from tests.tools.conftest import Connect, error_text, structured
from tests.tools.store_documents import ssp, u, write_documents

pytestmark = pytest.mark.anyio

STORE_TOOLS = {
    "list_oscal_documents",
    "search_oscal",
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


async def test_the_store_is_built_once_for_the_store_and_the_component_tools(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio

    builds: list[Path | None] = []
    real_build = store_module.build_store

    def counting_build(directory: Path | None, limits: Any, component_definitions_dir: Path | None) -> DocumentStore:
        builds.append(directory)
        return real_build(directory, limits, component_definitions_dir)

    monkeypatch.setattr(store_module, "build_store", counting_build)  # looked up at the first build
    async with connect() as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        async with anyio.create_task_group() as group:
            group.start_soon(client.call_tool, "list_oscal_documents", {})
            group.start_soon(client.call_tool, "list_component_definitions", {})
            group.start_soon(client.call_tool, "search_oscal", {"text": "account"})
        structured(await client.call_tool("query_component_definition", {"query_type": "all"}))
    assert builds == [None]
    assert set(tools) >= STORE_TOOLS
    assert all(len(tools[name].description or "") > 100 for name in STORE_TOOLS)
    assert all(tools[name].annotations and tools[name].annotations.read_only_hint for name in STORE_TOOLS)


async def test_documents_are_listed_by_model_with_aliases_and_skipped_files_reported(
    connect: Connect, tmp_path: Path
) -> None:
    documents = write_documents(tmp_path / "documents")
    (documents / "broken.json").write_text("{nope")
    async with connect(OSCAL_DOCUMENTS_DIR=str(documents)) as client:
        ssps = structured(await client.call_tool("list_oscal_documents", {"model": "ssp"}))
        unknown = await client.call_tool("list_oscal_documents", {"model": "spreadsheet"})
    assert [d["source"] for d in ssps["documents"]] == ["ssp.json"]
    assert ssps["documents"][0]["object_count"] == 4  # characteristics, two components, one requirement
    assert ssps["problem_count"] == 1 and ssps["problems"][0].startswith("broken.json: skipped: malformed JSON")
    assert "unknown OSCAL model 'spreadsheet'" in error_text(unknown)


async def test_a_document_nists_schema_rejects_is_listed_with_its_status_and_first_error(
    connect: Connect, tmp_path: Path
) -> None:
    documents = write_documents(tmp_path / "documents")
    robot = ssp()
    robot["system-security-plan"]["metadata"]["parties"] = [{"uuid": u(9100), "type": "robot"}]
    (documents / "robot-ssp.json").write_text(json.dumps(robot))
    async with connect(OSCAL_DOCUMENTS_DIR=str(documents)) as client:
        ssps = structured(await client.call_tool("list_oscal_documents", {"model": "ssp"}))
        catalogs = structured(await client.call_tool("list_oscal_documents", {"model": "catalog"}))
    listed = {d["source"]: d["validation"] for d in ssps["documents"]}
    assert listed["ssp.json"]["status"] == "valid" and listed["ssp.json"]["errors"] == []
    assert listed["robot-ssp.json"]["status"] == "invalid" and ssps["invalid_count"] == 1
    assert listed["robot-ssp.json"]["errors"][0].startswith("$.system-security-plan.metadata.parties[0].type: ")
    assert catalogs["invalid_count"] == 0 and catalogs["documents"][0]["validation"]["schema_version"] == "1.2.3"


async def test_search_text_without_words_is_a_clear_tool_error(connect: Connect) -> None:
    async with connect() as client:
        empty = await client.call_tool("search_oscal", {"text": ' "* ) ( '})
        hostile = structured(await client.call_tool("search_oscal", {"text": 'account" OR NEAR(* title:'}))
    assert "no letters or digits" in error_text(empty)
    assert hostile["total"] >= 1


async def test_unknown_documents_and_controls_are_tool_errors_that_say_what_to_call(connect: Connect) -> None:
    async with connect() as client:
        no_ssp = await client.call_tool("list_ssp_components", {"ssp": "missing"})
        no_control = await client.call_tool("get_catalog_control", {"control_id": "zz-99"})
        no_group = await client.call_tool("list_catalog_controls", {"group": "zz"})
        not_in_baseline = await client.call_tool("resolve_profile", {"profile": "low", "control_id": "ac-2.1"})
    assert "list_oscal_documents" in error_text(no_ssp)
    assert "no control 'zz-99'" in error_text(no_control)
    assert "list_catalog_groups" in error_text(no_group)
    assert "not in the resolved profile" in error_text(not_in_baseline)


async def test_catalog_controls_are_paginated_and_filtered_by_group(connect: Connect) -> None:
    async with connect() as client:
        groups = structured(await client.call_tool("list_catalog_groups", {}))
        first = structured(await client.call_tool("list_catalog_controls", {"group": "AC", "limit": 10}))
        second = structured(
            await client.call_tool(
                "list_catalog_controls", {"group": "ac", "limit": 10, "offset": first["next_offset"]}
            )
        )
        control = structured(
            await client.call_tool("get_catalog_control", {"control_id": "AC-2", "include_enhancements": True})
        )
    assert len(groups["groups"]) == 20 and groups["groups"][0]["id"] == "ac"
    ids = [c["id"] for c in first["controls"] + second["controls"]]
    assert ids[:3] == ["ac-1", "ac-2", "ac-2.1"] and len(set(ids)) == 20
    assert all(c["context"]["group-id"] == "ac" for c in first["controls"])
    assert first["next_offset"] == 10 and first["total"] == second["total"]
    assert len(control["control"]["object"]["controls"]) == len(control["enhancement_ids"]) == 13


async def test_resolved_pages_add_up_to_the_control_count(connect: Connect) -> None:
    seen: list[str] = []
    async with connect() as client:
        offset: int | None = 0
        while offset is not None:
            page = structured(
                await client.call_tool("resolve_profile", {"profile": "low", "limit": 60, "offset": offset})
            )
            seen += [c["id"] for c in page["controls"]]
            offset = page["next_offset"]
        detail = structured(await client.call_tool("get_profile", {"profile": "low"}))
    assert len(seen) == len(set(seen)) == page["control_count"] == detail["imports"][0]["selected_ids"]
    assert detail["imports"][0]["resolves_to"].endswith("NIST_SP-800-53_rev5_catalog.json")


async def test_an_unresolvable_profile_is_a_tool_error(connect: Connect, tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    profile = {
        "profile": {
            "uuid": "6b2e5a47-3a2d-4c7e-9a7d-9f1f0c0e7a11",
            "metadata": {
                "title": "Orphan",
                "last-modified": "2025-01-01T00:00:00Z",
                "version": "1",
                "oscal-version": "1.2.1",
            },
            "imports": [{"href": "https://example.org/unknown-catalog.json", "include-all": {}}],
        }
    }
    (documents / "orphan.json").write_text(json.dumps(profile))
    async with connect(OSCAL_DOCUMENTS_DIR=str(documents)) as client:
        result = await client.call_tool("resolve_profile", {"profile": "orphan"})
        detail = structured(await client.call_tool("get_profile", {"profile": "orphan"}))
    assert "not in the document store" in error_text(result)
    assert (
        detail["imports"][0]["resolves_to"] is None and "not in the document store" in detail["imports"][0]["problem"]
    )


async def test_assessment_poam_and_mapping_objects_are_whole_oscal_objects(connect: Connect, tmp_path: Path) -> None:
    documents = write_documents(tmp_path / "documents")
    async with connect(OSCAL_DOCUMENTS_DIR=str(documents)) as client:
        calls = {
            "tasks": ("list_assessment_plan_tasks", {}),
            "activities": ("list_assessment_plan_activities", {"assessment_plan": "Test assessment plan"}),
            "findings": ("list_assessment_findings", {}),
            "poam": ("list_poam_items", {"poam": "poam.json"}),
            "maps": ("list_control_mappings", {"control_id": "AC-2"}),
            "no_maps": ("list_control_mappings", {"control_id": "ac-3"}),
            "requirements": ("list_ssp_implemented_requirements", {"control_id": "AC-2"}),
            "services": ("list_ssp_components", {"component_type": "service"}),
        }
        results = {
            key: structured(await client.call_tool(name, {**args, "detail": "full"}))
            for key, (name, args) in calls.items()
        }
    first = {key: (r["objects"][0] if r["objects"] else None) for key, r in results.items()}
    assert first["tasks"]["object"]["type"] == "action"
    assert first["activities"]["object"]["title"] == "Examine the account policy"
    assert first["findings"]["object"]["target"]["status"] == {"state": "not-satisfied"}
    assert first["findings"]["context"]["result-title"] == "First assessment"
    assert first["poam"]["object"]["title"] == "Remove stale accounts"
    assert first["maps"]["object"]["relationship"] == "equivalent-to" and results["no_maps"]["total"] == 0
    assert first["requirements"]["object"]["by-components"][0]["description"].startswith("The gateway")
    assert results["services"]["total"] == 1 and first["services"]["object"]["title"] == "API gateway"


async def test_long_texts_are_clipped_and_the_cut_is_named(connect: Connect, tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    plan = ssp()
    plan["system-security-plan"]["system-implementation"]["components"][1]["description"] = "x" * 10_000
    (documents / "ssp.json").write_text(json.dumps(plan))
    async with connect(OSCAL_DOCUMENTS_DIR=str(documents)) as client:
        args = {"component_type": "service", "detail": "full"}
        result = structured(await client.call_tool("list_ssp_components", args))
    component = result["objects"][0]
    assert len(component["object"]["description"]) == 2000 and component["object"]["description"].endswith("\u2026")
    assert component["clipped"] == ["$.description: 10000 characters, clipped to 2000"]
