"""The deployment `make demo-auth` shows and the client examples' test runs: the test
Authorization Server (oidc-provider, on 127.0.0.1) and oscal-mcp with the jwt verifier.

Two clients are registered: a confidential machine client (client credentials) and a public
native app (authorization code with PKCE, loopback redirect on any port, RFC 8252 section 7.3);
the AS's development sign-in pages accept any login.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.e2e.as_fixture import AuthorizationServer, Client, Features, Resource
from tests.e2e.mcp_server import McpServerProcess
from tests.e2e.stacks import running, start_server

MACHINE_CLIENT = "oscal-demo-service"
MACHINE_SECRET = "demo-secret-not-for-production"
APP_CLIENT = "oscal-demo-desktop"
SCOPE = "oscal:read"


@dataclass
class DemoStack:
    auth: AuthorizationServer
    server: McpServerProcess

    @property
    def settings(self) -> dict[str, str]:
        return {name: value for name, value in self.server.env.items() if name.startswith("OSCAL_AUTH_")}


@contextmanager
def demo_stack() -> Iterator[DemoStack]:
    with running(_start) as stack:
        yield stack


def _start() -> DemoStack:
    server = McpServerProcess()
    auth = AuthorizationServer(
        clients=[Client(MACHINE_CLIENT, MACHINE_SECRET), Client.public_native(APP_CLIENT)],
        resources=[Resource(server.url, scope=SCOPE)],
        features=Features(interactions=True),
    ).start()
    server.env.update(
        {
            "OSCAL_AUTH_ISSUER_URL": auth.issuer,
            "OSCAL_AUTH_RESOURCE_SERVER_URL": server.url,
            "OSCAL_AUTH_REQUIRED_SCOPES": SCOPE,
        }
    )
    start_server(server, auth)
    return DemoStack(auth, server)
