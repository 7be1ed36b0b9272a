"""Whole deployments for end-to-end tests: a real Authorization Server plus the real server."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from tests.e2e.as_fixture import AuthorizationServer, Client, Resource
from tests.e2e.mcp_server import McpServerProcess, PortTakenError

CLIENT_ID = "mcp-client"
CLIENT_SECRET = "client-secret-1"


@dataclass
class JwtStack:
    auth: AuthorizationServer
    server: McpServerProcess
    es_resource: str
    short_resource: str
    other_resource: str

    def token(self, resource: str | None = None, scope: str = "oscal:read") -> str:
        return self.auth.client_credentials_token(
            CLIENT_ID, CLIENT_SECRET, resource=resource or self.server.url, scope=scope
        )


@contextmanager
def jwt_stack(extra_env: Mapping[str, str] | None = None) -> Iterator[JwtStack]:
    """oidc-provider issuing JWTs (RS256 for the server, ES256 and 3 s tokens for side resources)
    and the server verifying them with the jwt backend, requiring scope oscal:read."""
    for attempt in range(3):
        try:
            stack = _start_jwt_stack(extra_env)
        except PortTakenError:  # the server's port, already in the AS's resources, was taken
            if attempt == 2:
                raise
            continue
        try:
            yield stack
        finally:
            stack.server.stop()
            stack.auth.stop()
        return


def _start_jwt_stack(extra_env: Mapping[str, str] | None) -> JwtStack:
    server = McpServerProcess()
    base = f"http://127.0.0.1:{server.port}"
    es_resource, short_resource, other_resource = f"{base}/es", f"{base}/short", "http://127.0.0.1:1/other"
    auth = AuthorizationServer(
        clients=[Client(CLIENT_ID, CLIENT_SECRET)],
        resources=[
            Resource(server.url, scope="oscal:read oscal:write profile"),
            Resource(es_resource, scope="oscal:read", jwt_alg="ES256"),
            Resource(short_resource, scope="oscal:read", access_token_ttl=3),
            Resource(other_resource, scope="oscal:read"),
        ],
    ).start()
    server.env.update(
        {
            "OSCAL_AUTH_ISSUER_URL": auth.issuer,
            "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
            "OSCAL_AUTH_JWT_AUDIENCE": f"{server.url},{es_resource},{short_resource}",
            "OSCAL_AUTH_JWT_JWKS_MIN_REFRESH_SECONDS": "1",
            "OSCAL_AUTH_JWT_REQUIRE_TYP": "true",
            "OSCAL_AUTH_LEEWAY_SECONDS": "0",
            "OSCAL_AUTH_JWT_TIMEOUT_SECONDS": "2",
            **(extra_env or {}),
        }
    )
    try:
        server.start(new_port_on_clash=False)
    except BaseException:
        auth.stop()
        raise
    return JwtStack(auth, server, es_resource, short_resource, other_resource)
