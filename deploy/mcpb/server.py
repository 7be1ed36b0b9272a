"""Entry point of the oscal-mcp MCP bundle (.mcpb).

The host runs ``uv run --directory <bundle> server.py``: uv installs the bundle's pyproject.toml
(our wheel, shipped in ``wheels/``, and its dependencies as pinned in ``uv.lock``) into a venv of
its own, then this starts the server on stdio. Settings come from the environment, as always.
"""

import sys

from oscal_mcp.cli import main

sys.exit(main())
