from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from oscal_mcp.oscal.components import ComponentIndex
from oscal_mcp.oscal.components_loading import build_index
from oscal_mcp.oscal.store import DocumentStore, build_store
from oscal_mcp.tools.settings import ToolSettings
from tests.tools.conftest import Connect, error_text, structured
from tests.tools.documents import component_definition

SAMPLE_LOG_SERVICE = "Sample Central Log Service"
LIMITS = ToolSettings(max_document_bytes=1024 * 1024, max_archive_bytes=4 * 1024 * 1024)


def index_of(directory: Path) -> ComponentIndex:
    """The component index of the bundled samples plus `directory` as OSCAL_COMPONENT_DEFINITIONS_DIR."""
    return build_index(build_store(None, LIMITS, component_definitions_dir=directory))


@pytest.fixture
def comp_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "compdefs"
    (directory / "nested").mkdir(parents=True)
    (directory / "alpha.json").write_text(json.dumps(component_definition("Alpha", seed=100)))
    with zipfile.ZipFile(directory / "nested" / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("beta.json", json.dumps(component_definition("Beta", seed=200)))
        archive.writestr("notes.txt", "ignored")
    (directory / "broken.json").write_text('{"component-definition": {"uuid": "nope", "metadata": {"title": "B"}}}')
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
        uuid = by_type["matches"][0]["oscal"]["uuid"].upper()  # uuids match in any case
        by_uuid = structured(
            await client.call_tool("query_component_definition", {"query_type": "by_uuid", "value": uuid})
        )
        everything = structured(await client.call_tool("query_component_definition", {"query_type": "all", "limit": 1}))
    assert [m["oscal"]["title"] for m in by_type["matches"]] == [SAMPLE_LOG_SERVICE]
    assert SAMPLE_LOG_SERVICE in [m["oscal"]["title"] for m in by_title["matches"]]
    match = by_uuid["matches"][0]
    assert match["oscal"]["title"] == SAMPLE_LOG_SERVICE
    requirements = match["oscal"]["control-implementations"][0]["implemented-requirements"]
    assert {r["control-id"] for r in requirements} == {"au-4", "au-6", "au-9", "au-11"}
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
    titles = set(detail["component_titles"].values())
    assert titles == {"Sample Hardened Linux Server", SAMPLE_LOG_SERVICE}
    assert len(detail["oscal"]["control-implementations"][0]["implemented-requirements"]) == 2
    assert "list_capabilities" in unknown


def test_the_index_is_built_from_the_same_files_each_time(comp_dir: Path) -> None:
    first, second = index_of(comp_dir), index_of(comp_dir)
    assert [d.uuid for d in first.definitions] == [d.uuid for d in second.definitions]


def test_the_index_holds_the_stores_component_definitions_not_a_second_read(comp_dir: Path) -> None:
    store = build_store(None, LIMITS, component_definitions_dir=comp_dir)
    index = build_index(store)
    stored = {d.uuid: d for d in store.of_model("component-definition")}
    assert {d.uuid for d in index.definitions} <= set(stored)
    alpha = next(d for d in index.definitions if d.title == "Alpha")
    assert alpha.metadata is stored[alpha.uuid].metadata  # the very object the store read
    assert alpha.source == "alpha.json" and alpha.origin == "directory"


def test_component_definitions_in_the_documents_directory_are_queryable_too(tmp_path: Path) -> None:
    (tmp_path / "gamma.json").write_text(json.dumps(component_definition("Gamma", seed=500)))
    index = build_index(build_store(tmp_path, LIMITS))
    assert [d.title for d in index.definitions if d.origin == "directory"] == ["Gamma"]


@pytest.mark.parametrize("target", ["outside.json", "compdefs-evil/outside.json"])  # a sibling named like it too
def test_a_symlink_leaving_the_directory_is_skipped(tmp_path: Path, target: str) -> None:
    directory = tmp_path / "compdefs"
    directory.mkdir()
    outside = tmp_path / target
    outside.parent.mkdir(exist_ok=True)
    outside.write_text(json.dumps(component_definition("Outside", seed=400)))
    (directory / "link.json").symlink_to(outside)
    index = index_of(directory)
    assert not [d for d in index.definitions if d.origin == "directory"]
    assert any(p.startswith("link.json: skipped:") and "outside the allowed file roots" in p for p in index.problems)


@pytest.mark.anyio
async def test_the_index_loads_once_for_concurrent_first_calls(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio

    from oscal_mcp.oscal import components_loading

    calls: list[Any] = []
    real = components_loading.build_index

    def counting(store: DocumentStore) -> ComponentIndex:
        calls.append(store)
        return real(store)

    monkeypatch.setattr(components_loading, "build_index", counting)  # looked up at the first build
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
    assert sorted(m["oscal"]["title"] for m in everywhere["matches"]) == ["Alpha widget", "Beta widget"]
    assert [m["oscal"]["title"] for m in in_beta["matches"]] == ["Beta widget"]


# -- bounded results -------------------------------------------------------------------------------


def uuid4(seed: int) -> str:
    import uuid

    return str(uuid.UUID(int=seed, version=4))


def huge_definition(title: str, seed: int, components: int = 1) -> dict[str, Any]:
    """A valid component definition whose every text and list is far beyond the result caps."""
    doc = component_definition(title, seed=seed)
    inner = doc["component-definition"]
    inner["metadata"]["title"] = title + " " + "T" * 10_000
    template = inner["components"][0]
    inner["components"] = []
    for n in range(components):
        component = json.loads(json.dumps(template))
        component["uuid"] = uuid4(seed * 1000 + n)
        component["title"] = f"{title} {n} " + "t" * 10_000
        component["description"] = "D" * 100_000
        component["purpose"] = "P" * 100_000
        component["props"] = [{"name": "tag", "value": f"value {i} " + "v" * 1000} for i in range(500)]
        component["control-implementations"] = [
            {
                "uuid": uuid4(seed * 100_000 + n * 100 + i),
                "source": "https://example.org/" + "s" * 5000,
                "description": "I" * 5000,
                "implemented-requirements": [
                    {
                        "uuid": uuid4(seed * 10_000_000 + n * 10_000 + i * 100 + r),
                        "control-id": f"ac-{r + 1}",
                        "description": "R" * 1000,
                    }
                    for r in range(60)
                ],
            }
            for i in range(30)
        ]
        inner["components"].append(component)
    capability = inner["capabilities"][0]
    capability["incorporates-components"] = [
        {"component-uuid": inner["components"][0]["uuid"], "description": "role " + "r" * 5000} for _ in range(300)
    ]
    return doc


@pytest.fixture
def huge_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "huge"
    directory.mkdir()
    (directory / "huge.json").write_text(json.dumps(huge_definition("Huge", seed=500)))
    return directory


@pytest.mark.anyio
async def test_one_huge_component_gives_a_bounded_result(connect: Connect, huge_dir: Path) -> None:
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(huge_dir)) as client:
        found = structured(
            await client.call_tool("query_component_definition", {"query_type": "by_title", "value": "huge"})
        )
        capability_id = structured(await client.call_tool("list_capabilities", {"definition": "huge.json"}))
        capability = structured(
            await client.call_tool("get_capability", {"uuid": capability_id["capabilities"][0]["uuid"]})
        )
        listed = structured(await client.call_tool("list_component_definitions", {}))
    (match,) = found["matches"]
    assert len(json.dumps(found)) < 250_000
    component = match["oscal"]
    assert len(component["title"]) < 10_000 and component["title"].endswith("\u2026")
    assert len(component["description"]) < 100_000 and len(component["purpose"]) < 100_000
    assert 0 < len(component["props"]) < 500 and component["props"][0]["value"].startswith("value 0 ")
    assert any(cut.startswith("$.props: 500 items, the first ") for cut in match["clipped"])
    assert any(cut.startswith("$.description: 100000 characters") for cut in match["clipped"])
    implementation = component["control-implementations"][0]
    assert set(implementation) >= {"uuid", "source", "description", "implemented-requirements"}
    assert match["definition_title"].endswith("\u2026") and len(match["definition_title"]) <= 200
    assert len(capability["oscal"]["incorporates-components"]) < 300
    assert any(cut.startswith("$.incorporates-components: 300 items") for cut in capability["clipped"])
    assert len(json.dumps(capability)) < 250_000
    assert all(len(d["title"]) <= 200 for d in listed["definitions"])


@pytest.mark.anyio
async def test_query_results_stop_at_a_size_budget_and_continue_from_next_offset(
    connect: Connect, tmp_path: Path
) -> None:
    directory = tmp_path / "many"
    directory.mkdir()
    (directory / "many.json").write_text(json.dumps(huge_definition("Many", seed=600, components=8)))
    args = {"query_type": "by_title", "value": "many", "limit": 100}
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(directory)) as client:
        first = structured(await client.call_tool("query_component_definition", args))
        second = structured(
            await client.call_tool("query_component_definition", {**args, "offset": first["next_offset"]})
        )
    assert first["total"] == 8 and 1 <= len(first["matches"]) < 8
    assert len(json.dumps(first)) < 400_000
    assert first["next_offset"] == len(first["matches"]) and second["offset"] == first["next_offset"]
    assert {m["oscal"]["uuid"] for m in first["matches"]}.isdisjoint(m["oscal"]["uuid"] for m in second["matches"])


@pytest.mark.anyio
async def test_repeated_props_are_all_returned_in_order(connect: Connect, tmp_path: Path) -> None:
    directory = tmp_path / "props"
    directory.mkdir()
    doc = component_definition("Props", seed=700)
    doc["component-definition"]["components"][0]["props"] = [
        {"name": "tag", "value": "first"},
        {"name": "tag", "value": "second"},
        {"name": "owner", "value": "team"},
    ]
    (directory / "props.json").write_text(json.dumps(doc))
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(directory)) as client:
        found = structured(
            await client.call_tool("query_component_definition", {"query_type": "by_title", "value": "props widget"})
        )
    (match,) = found["matches"]
    assert match["oscal"]["props"] == [
        {"name": "tag", "value": "first"},
        {"name": "tag", "value": "second"},
        {"name": "owner", "value": "team"},
    ]
    assert match["clipped"] == []


@pytest.mark.anyio
async def test_component_definitions_are_paginated(connect: Connect, comp_dir: Path) -> None:
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(comp_dir)) as client:
        first = structured(await client.call_tool("list_component_definitions", {"limit": 3}))
        rest = structured(await client.call_tool("list_component_definitions", {"limit": 3, "offset": 3}))
    assert first["total"] == 4 and len(first["definitions"]) == 3 and first["next_offset"] == 3
    assert len(rest["definitions"]) == 1 and rest["next_offset"] is None
    assert first["problem_count"] == rest["problem_count"] == 3


@pytest.mark.anyio
async def test_errors_clip_what_they_echo(connect: Connect, huge_dir: Path) -> None:
    async with connect(OSCAL_COMPONENT_DEFINITIONS_DIR=str(huge_dir)) as client:
        scope = error_text(await client.call_tool("list_components", {"definition": "nothing-like-this " * 1000}))
        capability = error_text(await client.call_tool("get_capability", {"uuid": "x" * 10_000}))
        kind = error_text(await client.call_tool("query_component_definition", {"query_type": "y" * 10_000}))
    assert "list_component_definitions" in scope and "Huge TTT" in scope
    for text in (scope, capability, kind):
        assert len(text) < 2000, len(text)


def test_a_definition_file_with_a_huge_integer_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    directory = tmp_path / "ints"
    directory.mkdir()
    (directory / "big.json").write_text('{"component-definition": {"uuid": ' + "1" * 5000 + "}}")
    index = index_of(directory)
    assert any("big.json: skipped" in p and "more than 4300 digits" in p for p in index.problems)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd (Linux)")
def test_a_directory_swapped_while_definitions_load_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from oscal_mcp.oscal import sources

    directory = tmp_path / "compdefs"
    (directory / "sub").mkdir(parents=True)
    (directory / "sub" / "a.json").write_text(json.dumps(component_definition("Inside", seed=800)))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.json").write_text(json.dumps(component_definition("Outside", seed=900)))
    checked_read = sources.read_local_file

    def racing(path: Path, *args: Any, **kwargs: Any) -> bytes:  # the swap lands between the check and the open
        shutil.rmtree(directory / "sub")
        (directory / "sub").symlink_to(outside)
        return checked_read(path, *args, **kwargs)

    monkeypatch.setattr(sources, "read_local_file", racing)
    index = index_of(directory)
    assert not [d for d in index.definitions if d.origin == "directory"]
    assert any("sub/a.json: skipped" in p and "changed while it was being opened" in p for p in index.problems)


def test_one_directory_set_as_both_settings_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "docs" / "comps").mkdir(parents=True)
    (tmp_path / "docs" / "comps" / "gamma.json").write_text(json.dumps(component_definition("Gamma", seed=600)))
    (tmp_path / "docs" / "delta.json").write_text(json.dumps(component_definition("Delta", seed=700)))
    for documents, components in (
        (tmp_path / "docs", tmp_path / "docs"),
        (tmp_path / "docs", tmp_path / "docs" / "comps"),
        (tmp_path / "docs" / "comps", tmp_path / "docs"),
    ):
        store = build_store(documents, LIMITS, component_definitions_dir=components)
        titles = sorted(d.title for d in build_index(store).definitions if d.origin == "directory")
        assert titles == ["Delta", "Gamma"], (documents, components)  # each file once
        assert store.problems == []
