"""Call an oscal-mcp server that requires OAuth, as a machine client (the client credentials grant).

    MCP_CLIENT_SECRET=... python3 client_credentials.py http://127.0.0.1:8000/mcp \\
        --client-id my-service --issuer https://idp.example.com/realms/oscal --scope oscal:read

The SDK's ClientCredentialsOAuthProvider does the whole dance on the server's first 401: it reads
the server's protected resource metadata (RFC 9728), then the Authorization Server's metadata
(RFC 8414), asks for a token for this server (resource=<url>, RFC 8707) and retries with it.
The URL must be exactly the server's resource URL (RFC 9728 section 3.3): `localhost` where the
server says `127.0.0.1` is refused by the client.
"""

import argparse
import asyncio
import os

import httpx2
from mcp import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken


class MemoryStorage:
    """Tokens for this run only (a long-running client would keep them somewhere safe)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


async def main(url: str, client_id: str, secret: str, issuer: str, scope: str | None) -> None:
    storage = MemoryStorage()
    provider = ClientCredentialsOAuthProvider(
        server_url=url, storage=storage, client_id=client_id, client_secret=secret, scope=scope, issuer=issuer
    )
    async with (
        httpx2.AsyncClient(auth=provider, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        print(f"connected to {url} as client {client_id!r} (token from {issuer})")
        tools = (await client.list_tools()).tools
        print(f"tools/list: {len(tools)} tools, e.g. {', '.join(tool.name for tool in tools[:3])}")
        about = (await client.call_tool("about", {})).structured_content or {}
        print(f"about: the server sees client {about['caller']['client_id']!r} with scopes {about['caller']['scopes']}")
    assert storage.tokens is not None
    print(
        f"token: {storage.tokens.token_type}, expires in {storage.tokens.expires_in} s, scope {storage.tokens.scope!r}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="client credentials against an oscal-mcp server")
    parser.add_argument("url", help="the server's resource URL, e.g. http://127.0.0.1:8000/mcp")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--issuer", required=True, help="the Authorization Server's issuer URL")
    parser.add_argument("--scope", help="space-separated scopes to ask for (default: what the server lists)")
    args = parser.parse_args()
    asyncio.run(main(args.url, args.client_id, os.environ["MCP_CLIENT_SECRET"], args.issuer, args.scope))
