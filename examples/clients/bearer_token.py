"""Call an oscal-mcp server over streamable-http with an access token you already have.

    MCP_ACCESS_TOKEN=eyJ... python3 bearer_token.py https://oscal.example.com/mcp

Use exactly the URL the server names as its resource (OSCAL_AUTH_RESOURCE_SERVER_URL): a token
is issued for that URL and the server refuses tokens for any other.
"""

import asyncio
import os
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def main(url: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        about = await client.call_tool("about", {})
        print(about.structured_content)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], os.environ["MCP_ACCESS_TOKEN"]))
