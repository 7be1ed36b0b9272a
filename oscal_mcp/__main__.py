"""`python -m oscal_mcp` runs the same entry point as the `oscal-mcp` script."""

import sys

from oscal_mcp.cli import main

sys.exit(main())
