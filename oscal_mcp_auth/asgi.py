"""The two pieces of the SDK's bearer-auth wiring that this library replaces, and how to swap them in.

The road of a request's token: Starlette's ``AuthenticationMiddleware`` -> `BearerTokenBackend`
(header parsing, RFC 6750 section 2.1) -> the configured verifier (backend, hooks, audit) ->
the SDK's resource check -> `RequireBearerMiddleware` (scopes, challenges) -> the MCP endpoint.

Everything else stays the SDK's: ``AuthContextMiddleware`` (so tools see the caller through
``get_access_token()``), ``AuthenticatedUser``, the RFC 9728 metadata routes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import (
    AuthenticatedUser,
    BearerAuthBackend,
    RequireAuthMiddleware,
)
from mcp.server.auth.provider import AccessToken, TokenVerifier
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from oscal_mcp_auth.challenge import NO_CREDENTIALS, BearerError, send_challenge

logger = logging.getLogger("oscal_mcp_auth")

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MAX_TOKEN_LENGTH = 16 * 1024
_FAILURE_KEY = "oscal_mcp_auth.failure"

INVALID_TOKEN = BearerError(401, "invalid_token", "The access token is invalid, expired or not for this resource")

ScopeDenied = Callable[[AccessToken, list[str]], None]


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _fail(conn: HTTPConnection, failure: BearerError) -> None:
    conn.scope[_FAILURE_KEY] = failure


class BearerTokenBackend(BearerAuthBackend):
    """The SDK's backend with strict RFC 6750 header parsing and a recorded reason for failures.

    Nothing here rejects a request by itself: it records why authentication failed in the ASGI
    scope, so public routes (the metadata document) stay reachable and the protected endpoint
    can answer with the right challenge. Token expiry (with leeway) is the verifier's job.
    """

    def __init__(
        self, token_verifier: TokenVerifier, *, resource_server_url: AnyHttpUrl | None, protected_path: str
    ) -> None:
        super().__init__(token_verifier, resource_server_url=resource_server_url)
        self.protected_path = protected_path

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, AuthenticatedUser] | None:
        if _route_path(conn.scope) != self.protected_path:
            return None  # public routes (the metadata document, 404s) never cost a verification
        headers = conn.headers.getlist("authorization")
        if "access_token" in conn.query_params:
            _fail(
                conn,
                BearerError(
                    400,
                    "invalid_request",
                    "Send the access token in the Authorization header, never in the query string",
                ),
            )
            return None
        if not headers:
            return None
        if len(headers) > 1:
            _fail(conn, BearerError(400, "invalid_request", "More than one Authorization header"))
            return None
        scheme, _, credentials = headers[0].partition(" ")
        if scheme.lower() != "bearer":
            return None  # another scheme carries no bearer credentials: challenge without error
        token = credentials.lstrip(" ")
        if not token:
            _fail(conn, BearerError(400, "invalid_request", "The Bearer scheme needs a token"))
            return None
        if len(token) > MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(token):
            logger.info("token rejected: reason=malformed_token length=%d", len(token))
            _fail(conn, INVALID_TOKEN)
            return None
        access = await self.token_verifier.verify_token(token)
        if access is None:
            _fail(conn, INVALID_TOKEN)
            return None
        if self.resource_server_url and not self._issued_for_this_resource(access.resource):
            logger.info("token rejected: reason=wrong_resource client_id=%s", access.client_id)
            _fail(conn, INVALID_TOKEN)
            return None
        return AuthCredentials(access.scopes), AuthenticatedUser(access)


class RequireBearerMiddleware(RequireAuthMiddleware):
    """The SDK's endpoint guard with RFC 6750 section 3.1 challenges (see `challenge`)."""

    def __init__(
        self,
        app: Any,
        required_scopes: list[str],
        resource_metadata_url: AnyHttpUrl | None = None,
        on_scope_denied: ScopeDenied | None = None,
    ) -> None:
        super().__init__(app, required_scopes, resource_metadata_url)
        self.on_scope_denied = on_scope_denied

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if not isinstance(user, AuthenticatedUser):
            await self._challenge(send, scope.get(_FAILURE_KEY, NO_CREDENTIALS))
            return
        granted = set(user.scopes)
        missing = [s for s in self.required_scopes if s not in granted]
        if missing:
            if self.on_scope_denied is not None:
                self.on_scope_denied(user.access_token, missing)
            await self._challenge(send, BearerError(403, "insufficient_scope", f"Missing scope: {' '.join(missing)}"))
            return
        await self.app(scope, receive, send)

    async def _challenge(self, send: Send, failure: BearerError) -> None:
        metadata = str(self.resource_metadata_url) if self.resource_metadata_url else None
        await send_challenge(send, failure, resource_metadata_url=metadata, scopes=self.required_scopes)


def install_bearer_auth(
    app: Starlette,
    verifier: TokenVerifier,
    *,
    endpoint_path: str,
    required_scopes: Sequence[str],
    resource_server_url: str | None,
    resource_metadata_url: str | None,
    on_scope_denied: ScopeDenied | None = None,
) -> None:
    """Protect `endpoint_path` of an SDK-built Starlette app with this library's pieces.

    Works on an app built with or without the SDK's auth settings: any SDK authentication
    middleware is replaced, and the endpoint's guard is replaced or added. Call it before the
    app serves its first request (Starlette builds its middleware stack lazily).
    """
    if app.middleware_stack is not None:
        raise RuntimeError("install_bearer_auth must run before the app starts serving")
    backend = BearerTokenBackend(
        verifier,
        resource_server_url=AnyHttpUrl(resource_server_url) if resource_server_url else None,
        protected_path=endpoint_path,
    )
    replaced: tuple[Any, ...] = (AuthenticationMiddleware, AuthContextMiddleware)
    kept = [m for m in app.user_middleware if m.cls not in replaced]
    app.user_middleware = [
        Middleware(AuthenticationMiddleware, backend=backend),
        Middleware(AuthContextMiddleware),
        *kept,
    ]
    route = _endpoint_route(app, endpoint_path)
    inner = route.app.app if isinstance(route.app, RequireAuthMiddleware) else route.app
    route.app = RequireBearerMiddleware(
        inner,
        list(required_scopes),
        AnyHttpUrl(resource_metadata_url) if resource_metadata_url else None,
        on_scope_denied,
    )


def _endpoint_route(app: Starlette, path: str) -> Route:
    for route in app.router.routes:
        if isinstance(route, Route) and route.path == path:
            return route
    raise RuntimeError(f"no route for {path!r} in the application")
