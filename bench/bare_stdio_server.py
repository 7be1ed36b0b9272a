"""A bare SDK ``MCPServer`` over stdio with N trivial tools: the start-up baseline of ``bench_startup.py``.

    python bench/bare_stdio_server.py NAME [NAME ...]

One tool per name, each with two small parameters and a string result, so the SDK builds an input and
an output schema per tool as it does for every tool of oscal-mcp. Imports nothing but the SDK.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer


def make_tool(name: str) -> Callable[..., str]:
    def tool(limit: int = 50, offset: int = 0) -> str:
        return f"{name}: {limit} from {offset}"

    return tool


def main() -> None:
    server: MCPServer[Any] = MCPServer(name="bare", log_level="WARNING")
    for name in sys.argv[1:]:
        server.add_tool(make_tool(name), name=name, description=f"The {name} tool of the bare baseline.")
    server.run()  # stdio


if __name__ == "__main__":
    main()
