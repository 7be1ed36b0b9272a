"""oscal-mcp: an MCP server that gives AI assistants authoritative OSCAL tools."""

from importlib.metadata import version

__version__ = version("oscal-mcp")
