"""The MCP tools, one module per tool family; each family module exposes `register(server, context)`.

`oscal_mcp.tools.families` lists the families the server registers.
"""
