"""Whole deployments for end-to-end tests: a real Authorization Server plus the real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tests.e2e.as_fixture import AuthorizationServer, Client, Resource
from tests.e2e.mcp_server import McpServerProcess, PortTakenError

CLIENT_ID = "mcp-client"
CLIENT_SECRET = "client-secret-1"
START_ATTEMPTS = 3


class Deployment(Protocol):
    auth: AuthorizationServer
    server: McpServerProcess


D = TypeVar("D", bound=Deployment)


@contextmanager
def running(start: Callable[[], D]) -> Iterator[D]:
    """The deployment `start` builds, stopped when the block ends; built again when the server's
    port (already named in the AS's resources, so the server cannot move) was taken meanwhile."""
    for attempt in range(START_ATTEMPTS):
        try:
            deployment = start()
        except PortTakenError:
            if attempt == START_ATTEMPTS - 1:
                raise
            continue
        try:
            yield deployment
        finally:
            deployment.server.stop()
            deployment.auth.stop()
        return


def start_server(server: McpServerProcess, auth: AuthorizationServer) -> None:
    """Start the server on its port, which the AS's resources name; the AS stopped when it fails."""
    try:
        server.start(new_port_on_clash=False)
    except BaseException:
        auth.stop()
        raise


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
    with running(lambda: _start_jwt_stack(extra_env)) as stack:
        yield stack


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
    start_server(server, auth)
    return JwtStack(auth, server, es_resource, short_resource, other_resource)
