"""Large documents through the real server over streamable-http (the request-size path)."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from tests.e2e.mcp_server import McpServerProcess
from tests.tools.documents import catalog_of_size

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_a_10_mb_document_reaches_validate_oscal_content_and_the_result_stays_small() -> None:
    valid = catalog_of_size(1_000_000)
    truncated = '{"catalog": {"uuid": "' + "x" * 10_500_000  # 10 MB on the wire, cheap to reject
    with McpServerProcess() as server:
        async with Client(server.url) as client:
            big = await client.call_tool("validate_oscal_content", {"content": truncated})
            ok = await client.call_tool("validate_oscal_content", {"content": valid})
    assert big.structured_content is not None and ok.structured_content is not None, server.logs()
    assert big.structured_content["size_bytes"] > 10_000_000
    assert big.structured_content["levels"][0]["errors"][0]["line"] == 1
    assert ok.structured_content["valid"] is True
    assert len(json.dumps(big.structured_content)) < 4000
