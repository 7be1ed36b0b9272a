"""The tool families the server registers, in the order clients list them."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from oscal_mcp.tools import about, components, models, resources, schemas, validation
from oscal_mcp.tools.context import ToolContext

TOOL_FAMILIES = (about, models, schemas, validation, components, resources)


def register_tools(server: MCPServer[Any], context: ToolContext) -> None:
    for family in TOOL_FAMILIES:
        family.register(server, context)
