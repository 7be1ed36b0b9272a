"""The search/fetch pair the way a ChatGPT connector or deep-research client uses it: over
streamable-http, with a token from a real Authorization Server (oidc-provider), through the SDK's
client. Reads like the README: start the AS, start the server, connect, search, fetch."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.clients import mcp_client
from tests.e2e.stacks import JwtStack, jwt_stack

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def stack() -> Iterator[JwtStack]:
    with jwt_stack() as deployment:
        yield deployment


@pytest.mark.anyio
async def test_search_then_fetch_the_first_result_with_a_token(stack: JwtStack) -> None:
    token = stack.token(scope="oscal:read")
    async with mcp_client(stack.server.url, token) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        searched = await client.call_tool("search", {"query": "incident response"})
        results = json.loads(searched.content[0].text)["results"]  # type: ignore[union-attr]
        fetched = await client.call_tool("fetch", {"id": results[0]["id"]})
        control = await client.call_tool("fetch", {"id": next(r["id"] for r in results if r["id"].startswith("ir-"))})
    assert {"search", "fetch"} <= tools
    assert len(searched.content) == 1 and all(set(r) == {"id", "title", "url"} for r in results)
    ir_family = [r for r in results if r["id"] == "ir" or r["id"].startswith("ir-")]
    assert len(ir_family) >= 3, results
    first = json.loads(fetched.content[0].text)  # type: ignore[union-attr]
    assert first["id"] == results[0]["id"] and first["url"] == results[0]["url"]
    assert set(first) == {"id", "title", "text", "url", "metadata"} and first["metadata"]["model"] == "catalog"
    whole = json.loads(control.content[0].text)  # type: ignore[union-attr]
    assert "Statement:" in whole["text"] and "Guidance:" in whole["text"]
    if first["metadata"]["kind"] == "group":  # the IR family itself: each of its controls, by id and title
        assert "ir-4 Incident Handling" in first["text"] and "ir-8 Incident Response Plan" in first["text"]
    else:
        assert "Statement:" in first["text"]
