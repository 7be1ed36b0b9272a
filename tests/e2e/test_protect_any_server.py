"""`examples/protect-any-server`: a non-OSCAL MCPServer protected with oscal_mcp_auth, run as a
real process (uvicorn) against a real Authorization Server, called with the SDK's client.

Reads like the example's README: start the AS, start the server, connect a client with a token.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
from mcp.types import TextContent

from tests.e2e.as_fixture import AuthorizationServer, Client, Resource
from tests.e2e.clients import bearer, challenge_params, mcp_client, post_initialize
from tests.e2e.mcp_server import clean_environment, free_port
from tests.processes import stop_process

pytestmark = [pytest.mark.e2e]

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "protect-any-server"
CLIENT_ID, CLIENT_SECRET = "echo-client", "echo-client-secret-1"


@dataclass
class EchoDeployment:
    auth: AuthorizationServer
    url: str
    log: IO[bytes]

    def token(self, scope: str = "echo", resource: str | None = None) -> str:
        return self.auth.client_credentials_token(CLIENT_ID, CLIENT_SECRET, resource=resource or self.url, scope=scope)

    def logs(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def _wait_for_metadata(process: subprocess.Popen[bytes], metadata_url: str, log: IO[bytes]) -> None:
    """Ready when the example itself answers with its metadata document (not merely any listener)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the example exited with {process.returncode}:\n{log.read().decode()}")
        try:
            if httpx.get(metadata_url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the example did not serve its metadata within 30 s")


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoDeployment]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    auth = AuthorizationServer(
        clients=[Client(CLIENT_ID, CLIENT_SECRET)],
        resources=[Resource(url, scope="echo other"), Resource("http://127.0.0.1:1/elsewhere", scope="echo")],
    ).start()
    env = clean_environment({"OSCAL_AUTH_ISSUER_URL": auth.issuer, "OSCAL_AUTH_RESOURCE_SERVER_URL": url})
    log = tempfile.TemporaryFile()
    command = [sys.executable, "-m", "uvicorn", "echo_server:app", "--app-dir", str(EXAMPLE_DIR),
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        _wait_for_metadata(process, f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp", log)
        yield EchoDeployment(auth, url, log)
    finally:
        stop_process(process)
        auth.stop()
        log.close()


@pytest.mark.anyio
async def test_a_real_token_reaches_the_echo_tool(echo: EchoDeployment) -> None:
    async with mcp_client(echo.url, echo.token()) as client:
        result = await client.call_tool("echo", {"text": "hello"})
    assert result.is_error is False
    assert result.content == [TextContent(type="text", text=f"{CLIENT_ID}: hello")]


def test_without_a_token_the_challenge_points_to_the_metadata(echo: EchoDeployment) -> None:
    response = post_initialize(echo.url)
    assert response.status_code == 401
    params = challenge_params(response)
    assert "error" not in params and params["scope"] == "echo"
    metadata = httpx.get(params["resource_metadata"], timeout=10).json()
    assert metadata["resource"] == echo.url
    assert metadata["authorization_servers"] == [echo.auth.issuer]


def test_a_token_without_the_scope_is_refused(echo: EchoDeployment) -> None:
    response = post_initialize(echo.url, bearer(echo.token(scope="other")))
    assert response.status_code == 403
    assert challenge_params(response)["error"] == "insufficient_scope"


def test_a_token_for_another_resource_is_refused(echo: EchoDeployment) -> None:
    response = post_initialize(echo.url, bearer(echo.token(resource="http://127.0.0.1:1/elsewhere")))
    assert response.status_code == 401
    assert challenge_params(response)["error"] == "invalid_token"
