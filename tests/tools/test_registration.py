"""How the tools are registered: annotations, and one definition of each shared helper."""

from __future__ import annotations

import pytest

from tests.tools.conftest import Connect


@pytest.mark.anyio
@pytest.mark.parametrize("remote", ["false", "true"])
async def test_every_oscal_tool_is_annotated_read_only_and_idempotent(connect: Connect, remote: str) -> None:
    async with connect(OSCAL_ALLOW_REMOTE_URIS=remote) as client:
        tools = (await client.list_tools()).tools
    annotated = {tool.name: tool.annotations for tool in tools if tool.name != "about"}
    assert len(annotated) == 34  # 11 + the 4 Metaschema knowledge tools + the 19 document-store tools
    for name, hints in annotated.items():
        assert hints is not None, name
        assert hints.read_only_hint is True and hints.idempotent_hint is True, name
        open_world = remote == "true" and name == "validate_oscal_file"
        assert hints.open_world_hint is open_world, name


@pytest.mark.anyio
async def test_about_and_list_oscal_models_report_the_same_oscal_releases(connect: Connect) -> None:
    from tests.tools.conftest import structured

    async with connect() as client:
        about = structured(await client.call_tool("about", {}))
        models = structured(await client.call_tool("list_oscal_models", {}))
    assert about["oscal_version"] == models["oscal_version"] == "1.2.3"
    assert about["oscal_schema_versions"] == models["oscal_schema_versions"]
    assert "compliance-trestle" in about["oscal_library"] and models["model_oscal_version"] in about["oscal_library"]


def test_the_tool_context_carries_tool_settings_and_public_facts_only() -> None:
    from dataclasses import fields

    from oscal_mcp.config import load_settings
    from oscal_mcp.tools.context import AuthFacts, ToolContext

    settings = load_settings({"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_AUTH_VERIFIER": "static"})
    context = ToolContext.from_settings(settings)
    assert {f.name for f in fields(ToolContext)} == {"tools", "server", "store", "components", "resolutions"}
    assert context.tools is settings.tools
    assert {f.name for f in fields(AuthFacts)} == {"verifier", "issuer_url", "resource_server_url", "required_scopes"}
