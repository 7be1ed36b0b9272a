"""Every registered tool answers typical calls within its response budget (`TOOL_BUDGETS`), over the
bundled content (SP 800-53 rev5 and its baselines, sample component definitions), NIST's example
documents and one made-up document of each model; a page cut by its budget says so and how to get
the rest. A tool registered without a budget entry, or without typical calls here, fails."""

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
from oscal_mcp.tools.budget import PAGE_BYTES, TOOL_BUDGETS, budget_of
from tests.tools.documents import catalog
from tests.tools.store_documents import write_documents

pytestmark = pytest.mark.anyio

NIST_EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "nist-examples"
INVALID_CATALOG = json.dumps({"catalog": {"uuid": "not-a-uuid", "metadata": {"title": 3}}})
# Typical calls of each tool: what an assistant asks first, and the larger answers it may ask for.
TYPICAL_CALLS: dict[str, list[dict[str, Any]]] = {
    "about": [{}],
    "list_oscal_models": [{}],
    "list_oscal_resources": [{}, {"topic": "tools"}],
    "get_oscal_schema": [{"model": "catalog"}, {"model": "complete", "format": "xsd"}],
    "validate_oscal_content": [{"content": json.dumps(catalog())}, {"content": INVALID_CATALOG}],
    "validate_oscal_file": [{"path": "catalog.json"}, {"path": "ssp-example.json"}],
    "search_oscal": [
        {"text": "incident response"},
        {"text": "multi-factor authentication"},
        {"text": "account", "limit": 50},
        {"text": "access control", "detail": "full"},
    ],
    "search": [{"query": "incident response"}, {"query": "account management"}, {"query": "profile resolution"}],
    "search_oscal_docs": [{"query": "profile resolution"}, {"query": "control", "limit": 50}],
    "read_oscal_doc": [
        {"id": "oscal-docs:learn/tutorials/control/basic-catalog"},
        {"id": "oscal-docs:concepts/layer/_index"},
    ],
    "fetch": [
        {"id": "ac-2"},
        {"id": "ir"},
        {"id": "ac-2_smt.a"},
        {"id": "oscal-docs:learn/tutorials/control/basic-catalog"},
    ],
    "get_oscal_object": [{"id": "AC-2(1)"}, {"id": "ac-2"}, {"id": "si"}, {"id": "ac-2_prm_1"}],
    "list_oscal_documents": [{}, {"limit": 100}],
    "list_catalog_groups": [{}],
    "list_catalog_controls": [{}, {"limit": 200}, {"group": "ac", "detail": "full"}],
    "get_catalog_control": [{"control_id": "AC-2"}, {"control_id": "si-4", "include_enhancements": True}],
    "get_profile": [{"profile": "moderate"}, {"profile": "high"}],
    "resolve_profile": [
        {"profile": "MODERATE"},
        {"profile": "high", "limit": 400},
        {"profile": "low", "control_id": "ac-2"},
    ],
    "list_ssp_components": [{}, {"limit": 100, "detail": "full"}],
    "list_ssp_implemented_requirements": [{}, {"limit": 100, "detail": "full"}],
    "list_assessment_plan_tasks": [{}, {"detail": "full"}],
    "list_assessment_plan_activities": [{}, {"detail": "full"}],
    "list_assessment_findings": [{}, {"detail": "full"}],
    "list_poam_items": [{}, {"limit": 100, "detail": "full"}],
    "list_control_mappings": [{}, {"detail": "full"}],
    "list_component_definitions": [{}, {"limit": 200}],
    "list_components": [{}, {"limit": 200}],
    "list_capabilities": [{}, {"limit": 200}],
    "query_component_definition": [{"query_type": "all"}, {"query_type": "search", "value": "log", "limit": 100}],
    "query_capabilities": [{"query_type": "all"}, {"query_type": "all", "limit": 100}],
    "get_capability": [{"uuid": "CAPABILITY"}],
    "get_oscal_allowed_values": [
        {"place": "control/prop/@name"},
        {"place": "component/@type"},
        {"place": "prop/@name", "limit": 100},
    ],
    "list_oscal_constraints": [{"definition": "control"}, {"definition": "system-security-plan", "limit": 50}],
    "find_oscal_references": [{"definition": "component"}, {"definition": "party", "limit": 50}],
    "get_oscal_definition": [{"name": "responsible-party"}, {"name": "control", "limit": 10}],
}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    documents = write_documents(tmp_path / "documents")
    shutil.copytree(NIST_EXAMPLES, documents / "nist-examples", ignore=shutil.ignore_patterns("*.txt"))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog()))
    shutil.copy(NIST_EXAMPLES / "ssp-example.json", tmp_path / "ssp-example.json")
    settings = load_settings({"OSCAL_FILE_ROOTS": str(tmp_path), "OSCAL_DOCUMENTS_DIR": str(documents)})
    async with Client(build_server(settings)) as session:
        yield session


def size(result: Any) -> int:
    """Bytes of the structured answer as sent (compact JSON)."""
    return len(json.dumps(result.structured_content, separators=(",", ":"), ensure_ascii=False).encode())


def asked(arguments: dict[str, Any], answer: dict[str, Any], default_limit: int) -> int:
    remaining = answer["total"] - answer["offset"]
    return min(arguments.get("limit", default_limit), remaining)


async def test_every_registered_tool_has_a_budget_and_typical_calls(client: Client) -> None:
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert names - set(TOOL_BUDGETS) == set(), "give each new tool an entry in oscal_mcp.tools.budget.TOOL_BUDGETS"
    assert names - set(TYPICAL_CALLS) == set(), "give each new tool typical calls in tests/tools/test_budgets.py"
    assert set(TOOL_BUDGETS) - names == set(), "a budget names a tool that is not registered"


async def test_every_tool_answers_typical_calls_within_its_budget(client: Client) -> None:
    capabilities = await client.call_tool("list_capabilities", {})
    capability = capabilities.structured_content["capabilities"][0]["uuid"]  # type: ignore[index]
    over: dict[str, int] = {}
    for name, calls in TYPICAL_CALLS.items():
        for arguments in calls:
            arguments = {k: capability if v == "CAPABILITY" else v for k, v in arguments.items()}
            result = await client.call_tool(name, arguments)
            assert not result.is_error, (name, arguments, result.content)
            used = size(result)
            if used > budget_of(name, arguments) and not _asked_for_more(arguments):
                over[f"{name}({arguments})"] = used
    assert over == {}, f"over budget (bytes): {over}"


def _asked_for_more(arguments: dict[str, Any]) -> bool:
    return "max_bytes" in arguments


async def test_default_search_and_listing_pages_stay_within_8_kb_even_when_more_is_asked(client: Client) -> None:
    cases = [
        ("search_oscal", {"text": "control", "limit": 50}, "hits", 10),
        ("list_catalog_controls", {"limit": 200}, "controls", 50),
        ("resolve_profile", {"profile": "high", "limit": 400}, "controls", 100),
        ("list_ssp_implemented_requirements", {"limit": 100, "detail": "full"}, "objects", 20),
        ("query_component_definition", {"query_type": "all", "limit": 100}, "matches", 20),
    ]
    for name, arguments, items, default_limit in cases:
        result = await client.call_tool(name, arguments)
        answer = dict(result.structured_content or {})
        assert size(result) <= PAGE_BYTES, name
        assert len(answer[items]) < asked(arguments, answer, default_limit), name  # the budget cut it
        assert answer["next_offset"] == answer["offset"] + len(answer[items]), name
        assert f"offset={answer['next_offset']}" in answer["cut"] and "max_bytes" in answer["cut"], name


async def test_a_larger_max_bytes_returns_more_of_the_same_page(client: Client) -> None:
    small = (await client.call_tool("list_catalog_controls", {"limit": 200})).structured_content or {}
    large = (await client.call_tool("list_catalog_controls", {"limit": 200, "max_bytes": 65536})).structured_content
    assert large is not None and len(large["controls"]) > len(small["controls"])
    assert [c["id"] for c in large["controls"]][: len(small["controls"])] == [c["id"] for c in small["controls"]]


async def test_a_page_that_holds_everything_asked_for_is_not_marked_cut(client: Client) -> None:
    groups = (await client.call_tool("list_catalog_groups", {})).structured_content or {}
    assert groups["cut"] is None and groups["next_offset"] is None and len(groups["groups"]) == groups["total"] == 20


async def test_the_text_block_is_the_structured_content_as_compact_json(client: Client) -> None:
    for name, arguments in (("list_oscal_models", {}), ("search_oscal", {"text": "account"}), ("about", {})):
        result = await client.call_tool(name, arguments)
        text = result.content[0].text  # type: ignore[union-attr]
        assert len(result.content) == 1 and json.loads(text) == result.structured_content, name
        assert "\n" not in text[:2] and text == json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
