"""The Metaschema knowledge tools through a real stdio session with ``python -m oscal_mcp``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters


def _content(result: Any) -> dict[str, Any]:
    assert result.is_error is False and result.structured_content is not None
    content: dict[str, Any] = result.structured_content
    return content


@pytest.mark.anyio
async def test_an_assistant_asks_the_metaschema_before_writing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "oscal_mcp"], env=env, cwd=str(tmp_path))
    async with Client(params) as client:
        allowed = _content(await client.call_tool("get_oscal_allowed_values", {"place": "control/prop/@name"}))
        references = _content(await client.call_tool("find_oscal_references", {"definition": "component"}))
        definition = _content(await client.call_tool("get_oscal_definition", {"name": "responsible-party"}))

    names = {value["value"] for value in allowed["values"]}
    assert {"label", "sort-id", "status"} <= names
    assert allowed["others_allowed"] is False and allowed["oscal_version"] == "1.2.3"
    assert {rule["constraint_id"] for rule in allowed["rules"]} == {
        "oscal-control-prop-name",
        "oscal-metadata-prop-name-values",
    }

    referrers = {ref["referrer_id"] for ref in references["references"]}
    assert "oscal-system-implementation-component-depends-on-link-index" in referrers
    assert any(line.startswith("oscal-mcp-by-component-component-uuid-exists") for line in references["beyond_nist"])

    (party,) = definition["definitions"]
    assert party["formal_name"] == "Responsible Party"
    assert [flag["name"] for flag in party["flags"]] == ["role-id"] and party["flags"][0]["required"] is True
    children = {child["name"]: (child["json_name"], child["cardinality"]) for child in party["children"]}
    assert children["party-uuid"] == ("party-uuids", "1..*")
