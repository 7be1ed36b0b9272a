"""Protect one MCP endpoint with bearer tokens: our own ASGI wrapper, composed around the endpoint.

The road of a request's token, all in this module but the verifier:

1. `read_bearer_token` reads the ``Authorization`` header (RFC 6750 section 2.1, strictly);
2. the verifier (any SDK ``TokenVerifier``, e.g. `VerificationPipeline`) turns it into an
   ``AccessToken`` or refuses it;
3. the resource check (RFC 8707, `ProtectedResource.accepts_resource`);
4. the scope check (RFC 6750 section 3.1 ``insufficient_scope``);
5. the SDK's public ``AuthContextMiddleware``, so tools see the caller via ``get_access_token()``;
6. the endpoint, which gets ``scope["user"]`` (the SDK's ``AuthenticatedUser``: the session
   manager binds each session to the credential that opened it) and ``scope["auth"]``.

Any failure is answered with a challenge (`oscal_mcp_auth.challenge`) and never reaches the endpoint.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken, TokenVerifier
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers, QueryParams
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from oscal_mcp_auth.challenge import NO_CREDENTIALS, BearerError, send_challenge
from oscal_mcp_auth.resource import ProtectedResource, metadata_routes

logger = logging.getLogger("oscal_mcp_auth")

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MAX_TOKEN_LENGTH = 16 * 1024

INVALID_TOKEN = BearerError(401, "invalid_token", "The access token is invalid, expired or not for this resource")
TOKEN_IN_QUERY = BearerError(
    400, "invalid_request", "Send the access token in the Authorization header, never in the query string"
)
TWO_HEADERS = BearerError(400, "invalid_request", "More than one Authorization header")
EMPTY_BEARER = BearerError(400, "invalid_request", "The Bearer scheme needs a token")

ScopeDenied = Callable[[AccessToken, list[str]], None]
"""Told about a valid token that lacks required scopes: (the token, the scopes it lacks)."""


def read_bearer_token(scope: Scope) -> str | BearerError | None:
    """The bearer token of a request; a `BearerError` for a malformed request; None without one.

    Another scheme (``Basic``) carries no bearer credentials, so it counts as none (RFC 6750
    section 3.1: such a request gets a challenge without an ``error``).
    """
    if "access_token" in QueryParams(scope.get("query_string", b"")):
        return TOKEN_IN_QUERY  # RFC 6750 section 2.3 is a MAY we refuse: query strings get logged
    headers = Headers(scope=scope).getlist("authorization")
    if not headers:
        return None
    if len(headers) > 1:
        return TWO_HEADERS
    scheme, _, credentials = headers[0].partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = credentials.lstrip(" ")
    if not token:
        return EMPTY_BEARER
    if len(token) > MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(token):
        logger.info("token rejected: reason=malformed_token length=%d", len(token))
        return INVALID_TOKEN
    return token


def insufficient_scope(missing: list[str]) -> BearerError:
    return BearerError(403, "insufficient_scope", f"Missing scope: {' '.join(missing)}")


class BearerAuth:
    """An ASGI app that lets only requests with a valid token and every required scope reach `app`.

    Wrap exactly the endpoint to protect (see `protect`): everything it wraps costs a
    verification, everything else (the metadata document) stays public.
    """

    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier,
        resource: ProtectedResource,
        *,
        on_scope_denied: ScopeDenied | None = None,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.resource = resource
        self.on_scope_denied = on_scope_denied
        self._with_context = AuthContextMiddleware(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})  # no challenge possible: refuse
            return
        access = await self._authenticate(scope)
        if isinstance(access, BearerError):
            await self._challenge(send, access)
            return
        missing = [required for required in self.resource.required_scopes if required not in access.scopes]
        if missing:
            if self.on_scope_denied is not None:
                self.on_scope_denied(access, missing)
            await self._challenge(send, insufficient_scope(missing))
            return
        scope["user"] = AuthenticatedUser(access)
        scope["auth"] = AuthCredentials(access.scopes)
        await self._with_context(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> AccessToken | BearerError:
        token = read_bearer_token(scope)
        if token is None:
            return NO_CREDENTIALS
        if isinstance(token, BearerError):
            return token
        access = await self.verifier.verify_token(token)
        if access is None:
            return INVALID_TOKEN
        if not self.resource.accepts_resource(access.resource):
            logger.info("token rejected: reason=wrong_resource client_id=%s", access.client_id)
            return INVALID_TOKEN
        return access

    async def _challenge(self, send: Send, failure: BearerError) -> None:
        await send_challenge(
            send, failure, resource_metadata_url=self.resource.metadata_url, scopes=self.resource.required_scopes
        )


def protect(
    endpoint: ASGIApp,
    verifier: TokenVerifier,
    resource: ProtectedResource,
    *,
    path: str = "/mcp",
    on_scope_denied: ScopeDenied | None = None,
) -> list[BaseRoute]:
    """The routes of a protected MCP endpoint: the RFC 9728 metadata and `endpoint` behind `BearerAuth`.

    `endpoint` is any ASGI app serving MCP at `path`, e.g. the app the SDK's
    ``MCPServer.streamable_http_app()`` returns, used whole and unchanged. Put the routes in your
    own Starlette app whose lifespan runs the session manager (``mcp.session_manager.run()``).
    """
    guarded = BearerAuth(endpoint, verifier, resource, on_scope_denied=on_scope_denied)
    return [*metadata_routes(resource), Route(path, guarded)]
