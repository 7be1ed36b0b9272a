"""Fixtures of the tool tests: an in-memory MCP client session over a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult

from oscal_mcp.config import load_settings
from oscal_mcp.server import build_server

Connect = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture
def connect(tmp_path: Path) -> Connect:
    """``async with connect(OSCAL_X="...") as client`` - file roots default to `tmp_path`."""

    @asynccontextmanager
    async def session(**values: str) -> AsyncIterator[Client]:
        settings = load_settings({"OSCAL_FILE_ROOTS": str(tmp_path), **values})
        async with Client(build_server(settings)) as client:
            yield client

    return session


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "Traceback" not in text
    return str(text)
