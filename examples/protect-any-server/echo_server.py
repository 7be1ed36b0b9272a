"""An MCP server that has nothing to do with OSCAL, protected with `oscal_mcp_auth`.

Configured like oscal-mcp (``OSCAL_AUTH_ISSUER_URL``, ``OSCAL_AUTH_RESOURCE_SERVER_URL``, ...);
every call needs a token for this resource with scope ``echo``. Run it with uvicorn::

    OSCAL_AUTH_ISSUER_URL=https://idp.example.com OSCAL_AUTH_RESOURCE_SERVER_URL=http://127.0.0.1:8000/mcp \\
        uvicorn echo_server:app --host 127.0.0.1 --port 8000
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette

from oscal_mcp_auth import AuthConfig, ProtectedResource, load_verifier, protect

# The server: ten lines of plain MCP SDK, no auth in sight.
mcp = MCPServer("echo")


@mcp.tool()
def echo(text: str) -> str:
    """Say `text` back, prefixed with the calling client's id."""
    caller = get_access_token()
    return f"{caller.client_id if caller else 'nobody'}: {text}"


# The protection: a verifier, what this resource is, and the routes `protect` returns.
verifier = load_verifier(AuthConfig.from_mapping(os.environ))
resource = ProtectedResource(
    os.environ["OSCAL_AUTH_RESOURCE_SERVER_URL"],
    authorization_servers=(os.environ["OSCAL_AUTH_ISSUER_URL"],),
    required_scopes=("echo",),
)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    async with mcp.session_manager.run():
        yield
    await verifier.aclose()


app = Starlette(
    routes=protect(mcp.streamable_http_app(), verifier, resource, on_scope_denied=verifier.scope_denied),
    lifespan=lifespan,
)
