"""The OSCAL tools through a real stdio session with the ``python -m oscal_mcp`` process."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.tools.documents import catalog


@pytest.mark.anyio
async def test_a_file_is_validated_over_stdio(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_text(json.dumps(catalog()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    env["OSCAL_FILE_ROOTS"] = str(tmp_path)
    params = StdioServerParameters(command=sys.executable, args=["-m", "oscal_mcp"], env=env, cwd=str(tmp_path))
    async with Client(params) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("validate_oscal_file", {"path": "catalog.json"})
    assert {"validate_oscal_file", "get_oscal_schema", "list_components"} <= names
    assert result.structured_content is not None and result.structured_content["valid"] is True
