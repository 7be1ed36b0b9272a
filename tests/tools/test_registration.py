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
    assert len(annotated) == 24  # 10 + the 14 document-store tools
    for name, hints in annotated.items():
        assert hints is not None, name
        assert hints.read_only_hint is True and hints.idempotent_hint is True, name
        open_world = remote == "true" and name == "validate_oscal_file"
        assert hints.open_world_hint is open_world, name


def test_about_reports_the_oscal_version_of_the_models_module() -> None:
    from oscal_mcp.tools import about, models

    assert about.oscal_version is models.oscal_version


def test_the_tool_context_carries_settings_only() -> None:
    from oscal_mcp.tools.context import ToolContext

    assert not hasattr(ToolContext, "auth_enabled")
