"""Fixtures for the end-to-end tests: real Authorization Servers on 127.0.0.1.

Each fixture says which tests it serves; keep them independent of one another so modules can share
this file without sharing state they change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.as_fixture import AuthorizationServer, Client, Features, Resource

# ---------------------------------------------------------------------------------------------------
# Token introspection (RFC 7662): tests/e2e/test_introspection_e2e.py
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntrospectionAS:
    """An oidc-provider issuing opaque tokens for `resource`, with introspection and revocation on.

    Registered: the MCP client `client_id` (client_credentials; may ask for ``oscal:read
    oscal:write``), and two clients the resource server introspects as, one per RFC 6749
    section 2.3.1 method (`rs_client_id`: client_secret_basic, `rs_post_client_id`:
    client_secret_post). `other_resource` is a second API on the same AS whose tokens those
    clients may also introspect, so that a token for it reaches the MCP server's audience check.
    """

    server: AuthorizationServer
    resource: str = "https://oscal-mcp.example.test/mcp"
    other_resource: str = "https://other-api.example.test/api"
    client_id: str = "mcp-client"
    client_secret: str = "mcp-client-secret-1"
    rs_client_id: str = "mcp-rs"
    rs_client_secret: str = "mcp-rs-secret-1"
    rs_post_client_id: str = "mcp-rs-post"
    rs_post_client_secret: str = "mcp-rs-post-secret-1"

    @classmethod
    def start(cls, token_ttl: int = 600) -> IntrospectionAS:
        plain = cls  # the dataclass defaults: who is registered
        introspectors = (plain.rs_client_id, plain.rs_post_client_id)
        server = AuthorizationServer(
            clients=[
                Client(plain.client_id, plain.client_secret, scope="oscal:read oscal:write"),
                Client(plain.rs_client_id, plain.rs_client_secret, grant_types=()),
                Client(
                    plain.rs_post_client_id,
                    plain.rs_post_client_secret,
                    grant_types=(),
                    token_endpoint_auth_method="client_secret_post",
                ),
            ],
            resources=[
                Resource(
                    plain.resource,
                    scope="oscal:read oscal:write",
                    access_token_format="opaque",
                    access_token_ttl=token_ttl,
                    introspection_clients=introspectors,
                ),
                Resource(
                    plain.other_resource,
                    scope="oscal:read oscal:write",
                    access_token_format="opaque",
                    access_token_ttl=token_ttl,
                    introspection_clients=introspectors,
                ),
            ],
            features=Features(introspection=True, revocation=True),
        )
        return cls(server=server.start())

    def token(self, scope: str = "oscal:read", resource: str | None = None) -> str:
        """A fresh opaque access token for the MCP client (for `resource`, by default ours)."""
        return self.server.client_credentials_token(
            self.client_id, self.client_secret, resource=resource or self.resource, scope=scope
        )

    def revoke(self, token: str) -> None:
        self.server.revoke(token, self.client_id, self.client_secret)

    def server_env(self, **settings: str) -> dict[str, str]:
        """The environment of an MCP server that introspects at this AS; `settings` override it.

        The resource server URL is set explicitly (a public URL, as behind a TLS proxy): the same
        resource whichever loopback port a test server happens to listen on.
        """
        env = {
            "OSCAL_AUTH_VERIFIER": "introspection",
            "OSCAL_AUTH_ISSUER_URL": self.server.issuer,
            "OSCAL_AUTH_RESOURCE_SERVER_URL": self.resource,
            "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
            "OSCAL_AUTH_INTROSPECTION_CLIENT_ID": self.rs_client_id,
            "OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET": self.rs_client_secret,
        }
        env.update(settings)
        return env


@pytest.fixture(scope="session")
def introspection_as() -> Iterator[IntrospectionAS]:
    """The session's introspection AS. Do not stop, slow down or break it: use `outage_introspection_as`."""
    started = IntrospectionAS.start()
    try:
        yield started
    finally:
        started.server.stop()


@pytest.fixture(scope="module")
def outage_introspection_as() -> Iterator[IntrospectionAS]:
    """An introspection AS of the module's own, for tests that stop, delay or break it.

    Such a test restores it before it ends (``set_delay(0)``, ``set_failure("none")``,
    ``restart()``).
    """
    started = IntrospectionAS.start()
    try:
        yield started
    finally:
        started.server.stop()
