"""MCP tool annotations shared by the tool families: every OSCAL tool only reads."""

from __future__ import annotations

from mcp.types import ToolAnnotations


def read_only(*, open_world: bool = False) -> ToolAnnotations:
    """Read-only and idempotent; `open_world` when the tool may reach outside the server (remote URIs)."""
    return ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=open_world)
