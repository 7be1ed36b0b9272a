"""CORS for browser-based MCP clients (Fetch standard, "CORS protocol"); off unless origins are set.

With ``OSCAL_MCP_CORS_ORIGINS`` set, a preflight (``OPTIONS`` with ``Access-Control-Request-Method``)
from an allowed origin is answered here, before authentication: browsers never send credentials
with a preflight. Every other response to an allowed origin, whatever its status (200, 401, 403,
400, 404), carries ``Access-Control-Allow-Origin`` and exposes the headers a client must read:
the challenge (``WWW-Authenticate``) and the session (``Mcp-Session-Id``). Requests from other
origins pass through without any CORS header, so the browser keeps their answers from the page.

Starlette's ``CORSMiddleware`` is not used: it adds ``Access-Control-Expose-Headers`` for every
origin and answers refused preflights with the allowed methods and headers.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oscal_mcp.rebinding import parse_origins

SETTING = "OSCAL_MCP_CORS_ORIGINS"
ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
# Authorization is never covered by a "*" (Fetch standard), so every header is named.
ALLOW_HEADERS = "Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID, DPoP"
EXPOSE_HEADERS = "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, DPoP-Nonce"
MAX_AGE_SECONDS = "600"


def parse_cors_origins(raw: str) -> tuple[str, ...]:
    """``*`` alone, or comma-separated origins (see `parse_origins`); raises ValueError."""
    if raw.strip() == "*":
        return ("*",)
    if "*" in [item.strip() for item in raw.split(",")]:
        raise ValueError("'*' allows every origin and cannot be combined with a list")
    return parse_origins(raw)


def _allows(origins: tuple[str, ...], origin: str) -> bool:
    lowered = origin.lower()
    if "*" in origins or lowered in origins:
        return True
    base, sep, port = lowered.rpartition(":")
    return bool(sep) and port.isdigit() and f"{base}:*" in origins


class Cors:
    """ASGI middleware answering preflights and labelling responses for the allowed origins."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.origins = origins
        self.any_origin = "*" in origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or not _allows(self.origins, origin):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, headers)(scope, receive, send)
            return

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                self._label(response_headers, origin)
                response_headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, labelled)

    def _label(self, headers: MutableHeaders, origin: str) -> None:
        # replaces any value set further in (the SDK's metadata route answers "*" by itself)
        headers["Access-Control-Allow-Origin"] = "*" if self.any_origin else origin
        if not self.any_origin:
            headers.add_vary_header("Origin")

    def _preflight(self, origin: str, request: Headers) -> Response:
        response = Response(status_code=204)
        self._label(response.headers, origin)
        response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = MAX_AGE_SECONDS
        # Private Network Access: granted to origins named in the list, never through "*".
        if request.get("access-control-request-private-network") == "true" and not self.any_origin:
            response.headers["Access-Control-Allow-Private-Network"] = "true"
        return response
