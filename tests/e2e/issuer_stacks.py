"""Several real Authorization Servers and servers that trust some of them (several issuers).

Every Authorization Server here issues RS256 JWT access tokens for the same public resource
`RESOURCE` to the same client, and signs with its own keys under the SAME kids (``rs-1``,
``es-1``), as two real IdPs easily do: only the issuer tells their tokens apart. The resource is
a fixed public URL (as behind a TLS proxy), so one Authorization Server serves every server
process a test starts, whatever loopback port it listens on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from tests.e2e.as_fixture import AuthorizationServer, Client, Resource
from tests.e2e.mcp_server import McpServerProcess
from tests.e2e.stacks import CLIENT_ID, CLIENT_SECRET

RESOURCE = "https://oscal-mcp.example.test/mcp"
# Long enough that a request waiting on a hanging issuer is still waiting while another
# issuer's requests are answered (the point of tests that hang one issuer).
FETCH_TIMEOUT_SECONDS = 6
MIN_REFRESH_SECONDS = 1


def issuing_server(issuer_path: str = "") -> AuthorizationServer:
    """A started Authorization Server issuing JWTs for `RESOURCE`, with fresh keys of its own."""
    return AuthorizationServer(
        clients=[Client(CLIENT_ID, CLIENT_SECRET)],
        resources=[Resource(RESOURCE, scope="oscal:read oscal:write")],
        issuer_path=issuer_path,
    ).start()


def token_from(auth: AuthorizationServer, scope: str = "oscal:read") -> str:
    return auth.client_credentials_token(CLIENT_ID, CLIENT_SECRET, resource=RESOURCE, scope=scope)


def server_trusting(
    issuers: str, *, via_cli: bool = False, extra_env: Mapping[str, str] | None = None
) -> McpServerProcess:
    """The real server (not started) verifying JWTs from `issuers`, a comma-separated list given
    as ``OSCAL_AUTH_ISSUER_URL`` or, with `via_cli`, as ``--auth-issuer-url``."""
    env = {
        "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE,
        "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
        "OSCAL_AUTH_JWT_REQUIRE_TYP": "true",
        "OSCAL_AUTH_JWT_JWKS_MIN_REFRESH_SECONDS": str(MIN_REFRESH_SECONDS),
        "OSCAL_AUTH_JWT_TIMEOUT_SECONDS": str(FETCH_TIMEOUT_SECONDS),
        **(extra_env or {}),
    }
    if via_cli:
        return McpServerProcess("--auth-issuer-url", issuers, env=env)
    return McpServerProcess(env={**env, "OSCAL_AUTH_ISSUER_URL": issuers})


@dataclass
class TwoIssuers:
    """Two Authorization Servers trusted together: `first` at the root of its origin, `second`
    under a path (a realm), so both forms of issuer are exercised."""

    first: AuthorizationServer
    second: AuthorizationServer

    @property
    def issuer_list(self) -> str:
        return f"{self.first.issuer},{self.second.issuer}"

    def reset_stats(self) -> None:
        self.first.reset_stats()
        self.second.reset_stats()


@contextmanager
def two_issuers() -> Iterator[TwoIssuers]:
    first = issuing_server()
    try:
        second = issuing_server("/realms/second")
        try:
            yield TwoIssuers(first, second)
        finally:
            second.stop()
    finally:
        first.stop()
