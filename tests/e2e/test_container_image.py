"""The image `make image` builds, run with podman as its README section says: streamable-http with
the jwt verifier (against the test Authorization Server) and with the static verifier, and stdio.

The image is built by `make image`'s own script, cached by the hash of its inputs: the first run on
a machine costs about 75-120 s (Debian root filesystem, wheels), later runs a few seconds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.as_fixture import AuthorizationServer, Resource
from tests.e2e.as_fixture import Client as OAuthClient
from tests.e2e.clients import bearer, challenge_params, list_tools_and_call_about, mcp_client, post_initialize
from tests.e2e.mcp_server import free_port
from tests.e2e.podman import Container, build, podman, podman_environment, remove, unique_name

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

READER_KEY = "container-reader-key-0123456789"
USER = "10001:10001"


@pytest.fixture(scope="module")
def image() -> str:
    reference, seconds = build()
    size = int(podman("image", "inspect", "--format", "{{.Size}}", reference).stdout)
    print(f"\n{reference}: {size / 1e6:.0f} MB, make image took {seconds:.1f} s")
    return reference


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("container-keys") / "keys.json"
    digest = hashlib.sha256(READER_KEY.encode()).hexdigest()
    path.write_text(json.dumps({"keys": [{"client_id": "reader", "scopes": ["oscal:read"], "key_sha256": digest}]}))
    path.chmod(0o644)  # read by the image's user 10001
    return path


def test_image_declares_a_non_root_user_and_the_mcp_and_metrics_ports(image: str) -> None:
    config = json.loads(podman("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    assert config["User"] == USER
    assert config["Entrypoint"] == ["oscal-mcp"]
    assert {"8000/tcp", "9464/tcp"} <= set(config["ExposedPorts"])
    assert {"OSCAL_MCP_TRANSPORT=streamable-http", "OSCAL_MCP_HOST=0.0.0.0", "OSCAL_MCP_PORT=8000"} <= set(
        config["Env"]
    )


def test_unauthenticated_non_loopback_bind_is_refused(image: str) -> None:
    with Container(image, options=["--read-only", "--network=none"]) as container:
        assert container.wait_exit() == 2
        logs = container.logs()
    assert "refusing to serve streamable-http on non-loopback address 0.0.0.0" in logs


async def test_static_verifier_on_0_0_0_0_8000_behind_a_loopback_port_mapping(image: str, keys_file: Path) -> None:
    port, metrics_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    options = [
        "--read-only", "--publish", f"127.0.0.1:{port}:8000", "--publish", f"127.0.0.1:{metrics_port}:9464",
        "--env", "OSCAL_MCP_METRICS_HOST=0.0.0.0", "--env", "OSCAL_MCP_METRICS_PORT=9464",  # as the Kubernetes example
        "--volume", f"{keys_file}:/etc/oscal-mcp/keys.json:ro",
        "--env", "OSCAL_AUTH_VERIFIER=static",
        "--env", "OSCAL_AUTH_ISSUER_URL=https://idp.example.com/realms/oscal",
        "--env", f"OSCAL_AUTH_RESOURCE_SERVER_URL={url}",
        "--env", "OSCAL_AUTH_REQUIRED_SCOPES=oscal:read",
        "--env", "OSCAL_AUTH_STATIC_KEYS_FILE=/etc/oscal-mcp/keys.json",
        "--env", "OSCAL_MCP_STATELESS_HTTP=true",  # as on AgentCore Runtime
    ]  # fmt: skip
    with Container(image, options=options) as container:
        container.wait_http(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp")
        refused = post_initialize(url)
        assert refused.status_code == 401
        assert challenge_params(refused)["resource_metadata"] == (
            f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"
        )
        assert post_initialize(url, bearer(READER_KEY)).status_code == 200
        # AgentCore Runtime adds an Mcp-Session-Id of its own to requests: stateless, it is accepted.
        foreign_session = {**bearer(READER_KEY), "Mcp-Session-Id": "a-session-the-platform-made"}
        assert post_initialize(url, foreign_session).status_code == 200
        async with mcp_client(url, READER_KEY) as client:
            about = await list_tools_and_call_about(client)
        assert about["caller"] == {"client_id": "reader", "subject": "reader", "scopes": ["oscal:read"]}
        assert container.process_uid() == 10001
        assert "serving MCP over streamable-http at http://0.0.0.0:8000/mcp" in container.logs()
        # The probes of the Kubernetes example, asked as a kubelet asks: the pod address as Host.
        probe_host = {"Host": "10.88.0.7:8000"}
        alive = httpx.get(f"http://127.0.0.1:{port}/healthz", headers=probe_host, timeout=10)
        assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", headers=probe_host, timeout=15).status_code == 200
        # The image carries the metrics extra: the two initializes and the client's requests were counted.
        metrics = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
        assert metrics[("oscal_mcp_tool_calls_total", (("outcome", "ok"), ("tool", "about")))] == 1
        assert metrics[("oscal_mcp_auth_requests_total", (("outcome", "reject"), ("reason", "no_credentials")))] == 1
        assert metrics[("oscal_mcp_sessions_open", ())] == 0  # stateless


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """One scrape of a Prometheus endpoint: (name, sorted labels) -> value."""
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.fixture(scope="module")
def authorization_server() -> Iterator[tuple[AuthorizationServer, int]]:
    port = free_port()
    server = AuthorizationServer(
        clients=[OAuthClient("mcp-client", "mcp-client-secret-1", scope="oscal:read")],
        resources=[Resource(f"http://127.0.0.1:{port}/mcp", scope="oscal:read")],
    )
    with server:
        yield server, port


async def test_jwt_verifier_against_the_test_authorization_server(
    image: str, authorization_server: tuple[AuthorizationServer, int]
) -> None:
    auth_server, port = authorization_server
    url = f"http://127.0.0.1:{port}/mcp"
    options = [
        "--read-only", "--network=host",
        "--env", f"OSCAL_AUTH_ISSUER_URL={auth_server.issuer}",
        "--env", f"OSCAL_AUTH_RESOURCE_SERVER_URL={url}",
        "--env", "OSCAL_AUTH_REQUIRED_SCOPES=oscal:read",
    ]  # fmt: skip
    arguments = ["--host", "127.0.0.1", "--port", str(port)]
    with Container(image, options=options, arguments=arguments) as container:
        container.wait_http(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp")
        refused = post_initialize(url)
        assert refused.status_code == 401
        assert challenge_params(refused)["resource_metadata"] == (
            f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"
        )
        token = auth_server.client_credentials_token(
            "mcp-client", "mcp-client-secret-1", resource=url, scope="oscal:read"
        )
        assert post_initialize(url, bearer(token)).status_code == 200
        async with mcp_client(url, token) as client:
            about = await list_tools_and_call_about(client)
        assert about["transport"] == "streamable-http"
        assert about["caller"]["client_id"] == "mcp-client"  # type: ignore[index]
        assert container.process_uid() == 10001


async def test_stdio_with_podman_run_interactive(image: str) -> None:
    name = unique_name("oscal-mcp-e2e-stdio")
    run = ["run", "--interactive", "--rm", "--name", name, "--read-only", "--network=none", image]
    params = StdioServerParameters(command="podman", args=[*run, "--transport", "stdio"], env=podman_environment())
    try:
        async with Client(params) as client:
            about = await list_tools_and_call_about(client)
        assert about["transport"] == "stdio"
    finally:
        remove(name)
