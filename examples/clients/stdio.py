"""Start oscal-mcp as a local process and call a tool over stdio (no authentication: stdio is local).

python3 stdio.py                      # runs `oscal-mcp`; or: python3 stdio.py /path/to/oscal-mcp
"""

import asyncio
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters


async def main(command: str) -> None:
    async with Client(StdioServerParameters(command=command, args=[])) as client:
        about = await client.call_tool("about", {})
        print(about.structured_content)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "oscal-mcp"))
