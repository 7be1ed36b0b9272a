"""The README's reverse-proxy recipe, examples/deploy/nginx.conf, run by real nginx.

Two stateless replicas on 127.0.0.1 behind nginx, a real Authorization Server issuing JWTs for the
public resource URL, and clients that speak to the public name ``oscal.example.test:<port>``, as
they would to a real deployment (the connection itself goes to 127.0.0.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.as_fixture import AuthorizationServer, Client, Features, Resource
from tests.e2e.clients import INITIALIZE, MCP_HEADERS, bearer, challenge_params
from tests.e2e.dpop_client import DPoPKey
from tests.e2e.mcp_server import McpServerProcess
from tests.e2e.nginx import RECIPE, NginxProxy
from tests.e2e.public_host import public_mcp_client

pytestmark = [pytest.mark.e2e]

PUBLIC_HOST = "oscal.example.test"
CLIENT_ID, CLIENT_SECRET = "mcp-client", "client-secret-1"
ABOUT_CALL = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "about", "arguments": {}}}
# uvicorn's access log line for an answered MCP request, as nginx forwards it (HTTP/1.1).
ANSWERED = re.compile(r'"POST /mcp HTTP/1\.1" 200')


@dataclass
class Deployment:
    auth: AuthorizationServer
    replicas: list[McpServerProcess]
    proxy: NginxProxy

    @property
    def public_authority(self) -> str:
        return f"{PUBLIC_HOST}:{self.proxy.port}"

    @property
    def public_url(self) -> str:
        return f"http://{self.public_authority}/mcp"

    @property
    def proxy_url(self) -> str:
        """Where the connection goes; requests carry the public name in their Host header."""
        return f"http://127.0.0.1:{self.proxy.port}"

    def token(self) -> str:
        return self.auth.client_credentials_token(
            CLIENT_ID, CLIENT_SECRET, resource=self.public_url, scope="oscal:read"
        )

    def post(
        self,
        payload: object,
        *,
        host: str | None = None,
        token: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {**MCP_HEADERS, "Host": host or self.public_authority, "mcp-protocol-version": "2025-06-18"}
        if token is not None:
            headers.update(bearer(token))
        headers.update(extra or {})
        return httpx.post(f"{self.proxy_url}/mcp", json=payload, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    replicas = [McpServerProcess(), McpServerProcess()]
    proxy = NginxProxy(server_name=PUBLIC_HOST, replica_ports=[replica.port for replica in replicas])
    public_url = f"http://{PUBLIC_HOST}:{proxy.port}/mcp"
    auth = AuthorizationServer(
        clients=[Client(CLIENT_ID, CLIENT_SECRET)],
        resources=[Resource(public_url, "oscal:read")],
        features=Features(dpop=True),
    )
    try:
        auth.start()
        for replica in replicas:
            replica.env.update(
                {
                    "OSCAL_MCP_STATELESS_HTTP": "true",
                    "OSCAL_AUTH_ISSUER_URL": auth.issuer,
                    "OSCAL_AUTH_RESOURCE_SERVER_URL": public_url,
                    "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
                }
            )
            replica.start()
        with proxy:
            yield Deployment(auth, replicas, proxy)
    finally:
        for replica in replicas:
            replica.stop()
        auth.stop()


def test_readme_shows_the_tested_recipe() -> None:
    recipe = RECIPE.read_text()
    shown = recipe[recipe.index("upstream oscal_mcp") :]  # all but the file's header comment
    assert f"```nginx\n{shown}```" in (RECIPE.parents[2] / "README.md").read_text()


def test_challenge_through_the_proxy_names_the_public_metadata_url(deployment: Deployment) -> None:
    response = deployment.post(INITIALIZE)
    assert response.status_code == 401, response.text
    metadata_url = f"http://{deployment.public_authority}/.well-known/oauth-protected-resource/mcp"
    assert challenge_params(response)["resource_metadata"] == metadata_url


def test_metadata_through_the_proxy_names_the_public_resource(deployment: Deployment) -> None:
    response = httpx.get(
        f"{deployment.proxy_url}/.well-known/oauth-protected-resource/mcp",
        headers={"Host": deployment.public_authority},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    metadata = response.json()
    assert metadata["resource"] == deployment.public_url
    assert metadata["authorization_servers"] == [deployment.auth.issuer]


@pytest.mark.anyio
async def test_sdk_client_with_a_real_token_calls_tools_through_the_proxy(deployment: Deployment) -> None:
    async with public_mcp_client(deployment.public_url, deployment.token()) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        about = (await client.call_tool("about", {})).structured_content
    assert {"validate_oscal_content", "about"} <= tools
    assert about is not None
    assert about["caller"]["client_id"] == CLIENT_ID


def test_requests_through_the_proxy_reach_both_replicas(deployment: Deployment) -> None:
    token = deployment.token()
    before = [len(ANSWERED.findall(replica.logs())) for replica in deployment.replicas]
    statuses = [deployment.post(ABOUT_CALL, token=token).status_code for _ in range(4)]
    after = [len(ANSWERED.findall(replica.logs())) for replica in deployment.replicas]
    assert statuses == [200, 200, 200, 200]
    answered_by_replica = [now - then for now, then in zip(after, before, strict=True)]
    assert all(count >= 1 for count in answered_by_replica), answered_by_replica


def test_foreign_host_is_refused_behind_the_proxy(deployment: Deployment) -> None:
    token = deployment.token()
    assert deployment.post(ABOUT_CALL, token=token).status_code == 200
    foreign = deployment.post(ABOUT_CALL, host=f"rebind.example:{deployment.proxy.port}", token=token)
    assert foreign.status_code == 421, foreign.text


def test_dpop_proofs_name_the_public_url_and_hold_through_the_proxy(deployment: Deployment) -> None:
    """RFC 9449 htu: the URL the client uses, not the replica's 127.0.0.1 address nginx forwards to."""
    key = DPoPKey.generate()
    token = deployment.auth.client_credentials_token(
        CLIENT_ID, CLIENT_SECRET, resource=deployment.public_url, scope="oscal:read", dpop=key
    )

    def with_proof(url: str) -> httpx.Response:
        proof = key.proof("POST", url, access_token=token)
        return deployment.post(ABOUT_CALL, extra={"Authorization": f"DPoP {token}", "DPoP": proof})

    # nginx spreads these over both replicas (test_requests_through_the_proxy_reach_both_replicas)
    assert [with_proof(deployment.public_url).status_code for _ in range(4)] == [200] * 4
    replica_url = deployment.replicas[0].url
    refused = with_proof(replica_url)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_dpop_proof")


FORGED = {"X-Forwarded-For": "203.0.113.66, 198.51.100.7", "X-Forwarded-Proto": "https"}


def test_a_forged_x_forwarded_for_does_not_reach_the_replicas_logs(deployment: Deployment) -> None:
    starts = [replica.log_position() for replica in deployment.replicas]
    statuses = [deployment.post(INITIALIZE, extra=FORGED).status_code for _ in range(4)]
    assert statuses == [401] * 4
    logs = "".join(replica.logs(since=start) for replica, start in zip(deployment.replicas, starts, strict=True))
    assert len(re.findall(r'127\.0\.0\.1:\d+ - "POST /mcp HTTP/1\.1" 401', logs)) == 4  # nginx's own peer address
    assert "203.0.113.66" not in logs and "198.51.100.7" not in logs


def test_a_forged_x_forwarded_proto_does_not_choose_the_redirect_scheme(deployment: Deployment) -> None:
    response = httpx.get(
        f"{deployment.proxy_url}/mcp/", headers={"Host": deployment.public_authority, **FORGED}, timeout=30
    )
    assert response.status_code == 307
    location = response.headers["location"]
    assert location.startswith(f"http://{PUBLIC_HOST}") and location.endswith("/mcp"), location  # nginx's scheme
