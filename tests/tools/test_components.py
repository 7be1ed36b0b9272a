from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from oscal_mcp.tools.components import build_index
from oscal_mcp.tools.settings import ToolSettings
from tests.tools.conftest import Connect, error_text, structured
from tests.tools.documents import component_definition

SAMPLE_LOG_SERVICE = "Sample Central Log Service"


@pytest.fixture
def comp_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "compdefs"
    (directory / "nested").mkdir(parents=True)
    (directory / "alpha.json").write_text(json.dumps(component_definition("Alpha", seed=100)))
    with zipfile.ZipFile(directory / "nested" / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("beta.json", json.dumps(component_definition("Beta", seed=200)))
        archive.writestr("notes.txt", "ignored")
    (directory / "broken.json").write_text('{"component-definition": {"uuid": "nope"}}')
    (directory / "catalog.json").write_text('{"catalog": {}}')
    with zipfile.ZipFile(directory / "evil.zip", "w") as archive:
        archive.writestr("../escape.json", json.dumps(component_definition("Evil", seed=300)))
    return directory


@pytest.mark.anyio
async def test_bundled_samples_are_listed_without_configuration(connect: Connect) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("list_component_definitions", {}))
    assert result["directory"] is None
    assert result["total"] == 2 and result["problem_count"] == 0
    assert all(d["origin"] == "bundled" and d["source"].startswith("bundled:") for d in result["definitions"])


@pytest.mark.anyio
async def test_directory_json_and_zip_files_are_loaded_and_bad_ones_reported(connect: Connect, comp_dir: Path) -> None:
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(comp_dir)) as client:
        result = structured(await client.call_tool("list_component_definitions", {}))
    sources = {d["source"] for d in result["definitions"] if d["origin"] == "directory"}
    assert sources == {"alpha.json", "nested/bundle.zip!beta.json"}
    problems = "\n".join(result["problems"])
    assert result["problem_count"] == 3
    assert "broken.json: skipped:" in problems and "validation error" in problems
    assert "catalog.json: skipped: not a component definition" in problems
    assert "evil.zip: skipped:" in problems and "leaves the archive" in problems


@pytest.mark.anyio
async def test_components_are_listed_with_pagination(connect: Connect, comp_dir: Path) -> None:
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(comp_dir)) as client:
        first = structured(await client.call_tool("list_components", {"limit": 4}))
        rest = structured(await client.call_tool("list_components", {"limit": 4, "offset": first["next_offset"]}))
        only = structured(await client.call_tool("list_components", {"definition": "alpha.json"}))
    assert first["total"] == 6 and len(first["components"]) == 4 and first["next_offset"] == 4
    assert len(rest["components"]) == 2 and rest["next_offset"] is None
    assert [c["title"] for c in only["components"]] == ["Alpha widget"]


@pytest.mark.anyio
async def test_query_by_type_title_and_uuid(connect: Connect) -> None:
    async with connect() as client:
        by_type = structured(
            await client.call_tool("query_component_definition", {"query_type": "by_type", "value": "SERVICE"})
        )
        by_title = structured(
            await client.call_tool("query_component_definition", {"query_type": "by_title", "value": "log"})
        )
        uuid = by_type["matches"][0]["uuid"]
        by_uuid = structured(
            await client.call_tool("query_component_definition", {"query_type": "by_uuid", "value": uuid})
        )
        everything = structured(await client.call_tool("query_component_definition", {"query_type": "all", "limit": 1}))
    assert [m["title"] for m in by_type["matches"]] == [SAMPLE_LOG_SERVICE]
    assert SAMPLE_LOG_SERVICE in [m["title"] for m in by_title["matches"]]
    match = by_uuid["matches"][0]
    assert match["title"] == SAMPLE_LOG_SERVICE
    requirements = match["control_implementations"][0]["requirements"]
    assert {r["control_id"] for r in requirements} == {"au-4", "au-6", "au-9", "au-11"}
    assert everything["total"] == 4 and len(everything["matches"]) == 1


@pytest.mark.anyio
async def test_bad_queries_are_actionable_errors(connect: Connect) -> None:
    async with connect() as client:
        kind = error_text(
            await client.call_tool("query_component_definition", {"query_type": "by_colour", "value": "x"})
        )
        missing = error_text(await client.call_tool("query_component_definition", {"query_type": "by_uuid"}))
        scope = error_text(await client.call_tool("list_components", {"definition": "nothing-like-this"}))
    assert "use one of: all, by_uuid, by_title, by_type" in kind
    assert "needs a value" in missing
    assert "list_component_definitions" in scope


@pytest.mark.anyio
async def test_capabilities_are_listed_and_resolved(connect: Connect) -> None:
    async with connect() as client:
        listed = structured(await client.call_tool("list_capabilities", {}))
        audit = next(c for c in listed["capabilities"] if "Audit" in c["name"])
        detail = structured(await client.call_tool("get_capability", {"uuid": audit["uuid"].upper()}))
        unknown = error_text(await client.call_tool("get_capability", {"uuid": "00000000-0000-4000-8000-000000000000"}))
    assert listed["total"] == 2
    titles = {c["title"] for c in detail["incorporates_components"]}
    assert titles == {"Sample Hardened Linux Server", SAMPLE_LOG_SERVICE}
    assert detail["control_implementations"][0]["requirement_count"] == 2
    assert "list_capabilities" in unknown


def test_the_index_is_built_from_the_same_files_each_time(comp_dir: Path) -> None:
    settings = ToolSettings(component_definitions_dir=comp_dir)
    first, second = build_index(settings), build_index(settings)
    assert [d.uuid for d in first.definitions] == [d.uuid for d in second.definitions]


def test_a_symlink_leaving_the_directory_is_skipped(tmp_path: Path) -> None:
    directory = tmp_path / "compdefs"
    directory.mkdir()
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(component_definition("Outside", seed=400)))
    (directory / "link.json").symlink_to(outside)
    index = build_index(ToolSettings(component_definitions_dir=directory))
    assert not [d for d in index.definitions if d.origin == "directory"]
    assert any("symlink that leaves" in p for p in index.problems)


@pytest.mark.anyio
async def test_the_index_loads_once_for_concurrent_first_calls(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio

    from oscal_mcp.tools import components

    calls: list[Any] = []
    real = components.build_index

    def counting(settings: ToolSettings) -> components.ComponentIndex:
        calls.append(settings)
        return real(settings)

    monkeypatch.setattr(components, "build_index", counting)
    async with connect() as client, anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(client.call_tool, "list_capabilities", {})
    assert len(calls) == 1


@pytest.mark.anyio
async def test_a_query_can_be_restricted_to_one_definition(connect: Connect, comp_dir: Path) -> None:
    args = {"query_type": "by_title", "value": "WIDGET"}
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(comp_dir)) as client:
        everywhere = structured(await client.call_tool("query_component_definition", args))
        in_beta = structured(await client.call_tool("query_component_definition", {**args, "definition": "beta"}))
    assert sorted(m["title"] for m in everywhere["matches"]) == ["Alpha widget", "Beta widget"]
    assert [m["title"] for m in in_beta["matches"]] == ["Beta widget"]
