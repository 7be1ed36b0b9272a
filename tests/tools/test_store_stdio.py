"""The document-store tools through a real stdio session with the ``python -m oscal_mcp`` process."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

import oscal_mcp.content as content
from tests.tools.conftest import structured
from tests.tools.store_documents import MARKERS, SSP_COMPONENT_UUIDS, write_documents

MODERATE = "nist/sp800-53-rev5/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"


@asynccontextmanager
async def stdio_client(tmp_path: Path, **values: str) -> AsyncIterator[Client]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    env.update({"OSCAL_FILE_ROOTS": str(tmp_path), **values})
    params = StdioServerParameters(command=sys.executable, args=["-m", "oscal_mcp"], env=env, cwd=str(tmp_path))
    async with Client(params) as client:
        yield client


def included_ids(profile_path: str) -> set[str]:
    """The control ids a bundled profile selects, read from the profile itself."""
    profile = json.loads(content.read_bundled(profile_path))["profile"]
    return {cid for imp in profile["imports"] for rule in imp["include-controls"] for cid in rule["with-ids"]}


@pytest.mark.anyio
async def test_bundled_catalog_answers_ac_2_1_and_the_moderate_baseline_resolves_offline(tmp_path: Path) -> None:
    async with stdio_client(tmp_path) as client:
        control = structured(await client.call_tool("get_catalog_control", {"control_id": "ac-2.1"}))
        first = structured(
            await client.call_tool("resolve_profile", {"profile": "moderate", "limit": 400, "max_bytes": 262144})
        )
        ac2 = structured(await client.call_tool("resolve_profile", {"profile": "moderate", "control_id": "ac-2"}))

    assert control["control"]["object"]["id"] == "ac-2.1"
    assert control["control"]["object"]["title"] == "Automated System Account Management"
    assert control["control"]["context"] == {"group-id": "ac", "parent-control-id": "ac-2"}
    assert "[Assignment: organization-defined automated mechanisms]" in control["statement"]

    expected = included_ids(MODERATE)
    assert first["control_count"] == len(expected)
    assert {c["id"] for c in first["controls"]} == expected
    assert first["sources"][0]["source"] == "bundled:nist/sp800-53-rev5/NIST_SP-800-53_rev5_catalog.json"
    frequency = next(p for p in ac2["controls"][0]["parameters"] if p["id"] == "ac-2_prm_10")
    assert frequency["text"] == "[Assignment: organization-defined frequency]"


async def search_hit(client: Client, text: str, model: str) -> dict[str, Any]:
    result = structured(await client.call_tool("search_oscal", {"text": text, "model": model}))
    assert result["total"] >= 1, (text, model)
    return dict(result["hits"][0])


@pytest.mark.anyio
async def test_documents_directory_is_queried_and_every_model_is_searchable(tmp_path: Path) -> None:
    documents = write_documents(tmp_path / "documents")
    async with stdio_client(tmp_path, OSCAL_DOCUMENTS_DIR=str(documents)) as client:
        components = structured(await client.call_tool("list_ssp_components", {"ssp": "ssp.json", "detail": "full"}))
        hits = {model: await search_hit(client, marker, model) for model, marker in MARKERS.items()}
        hits["catalog"] = await search_hit(client, "automated system account management", "catalog")
        tailored = structured(await client.call_tool("resolve_profile", {"profile": "capybara", "control_id": "ac-2"}))

    assert [c["object"]["uuid"] for c in components["objects"]] == list(SSP_COMPONENT_UUIDS)
    assert components["objects"][1]["object"]["props"] == [{"name": "vendor-name", "value": "Example Corp"}]
    assert {model: hit["model"] for model, hit in hits.items()} == {model: model for model in hits}
    assert hits["catalog"]["id"] == "ac-2.1" and hits["catalog"]["document"].endswith("rev5_catalog.json")
    assert hits["assessment-results"]["kind"] == "finding"
    assert hits["plan-of-action-and-milestones"]["kind"] == "poam-item"
    assert hits["mapping-collection"]["kind"] == "map"
    assert tailored["control_count"] == 3
    assert {"id": "ac-2_prm_10", "text": "every 30 days"} in tailored["controls"][0]["parameters"]
