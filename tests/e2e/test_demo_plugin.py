"""A third-party plugin, pip-installed from examples/, selected by name and used over real HTTP."""

from __future__ import annotations

import json
import site
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.clients import bearer, challenge_params, mcp_client, post_initialize
from tests.e2e.mcp_server import McpServerProcess

pytestmark = [pytest.mark.e2e]

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "examples" / "oscal-mcp-auth-demo-plugin"
SECRET = "demo-secret-for-tests"


@pytest.fixture(scope="module")
def plugin_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh venv that sees this test environment's packages and has the plugin pip-installed."""
    venv = tmp_path_factory.mktemp("plugin-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # Layer this environment's site-packages (oscal-mcp, mcp, ...) below the new venv's own.
    Path(purelib, "test-env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(PLUGIN_DIR)],
        check=True, timeout=300,
    )  # fmt: skip
    return str(python)


def mint(python: str, client_id: str, *scopes: str) -> str:
    result = subprocess.run(
        [python, "-m", "oscal_mcp_auth_demo.mint", SECRET, client_id, *scopes],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout.strip()


@pytest.fixture(scope="module")
def server(plugin_python: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpServerProcess]:
    audit = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    env = {
        "OSCAL_AUTH_VERIFIER": "demo-hmac",
        "OSCAL_AUTH_DEMO_HMAC_SECRET": SECRET,
        "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
        "OSCAL_AUTH_DEMO_DENY_CLIENTS": "mallory",
        "OSCAL_AUTH_DEMO_AUDIT_FILE": str(audit),
    }
    with McpServerProcess(env=env, python=plugin_python) as process:
        process.audit_file = audit  # type: ignore[attr-defined]
        yield process


def audit_events(server: McpServerProcess) -> list[dict[str, object]]:
    path: Path = server.audit_file  # type: ignore[attr-defined]
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.anyio
async def test_plugin_verifier_accepts_its_token(server: McpServerProcess, plugin_python: str) -> None:
    token = mint(plugin_python, "alice", "oscal:read")
    async with mcp_client(server.url, token) as client:
        about = (await client.call_tool("about", {})).structured_content
    assert about is not None
    assert about["auth"]["verifier"] == "demo-hmac"
    assert about["caller"]["client_id"] == "alice"
    assert {"outcome": "accept", "reason": "ok", "client_id": "alice"}.items() <= audit_events(server)[-1].items()


def test_plugin_verifier_rejects_a_forged_token(server: McpServerProcess, plugin_python: str) -> None:
    forged = mint(plugin_python, "alice", "oscal:read").split(".")[0] + "." + "0" * 64
    response = post_initialize(server.url, bearer(forged))
    assert response.status_code == 401
    assert challenge_params(response)["error"] == "invalid_token"
    last = audit_events(server)[-1]
    assert (last["outcome"], last["reason"]) == ("reject", "bad_signature")
    assert forged not in json.dumps(audit_events(server))


def test_hook_plugin_vetoes_a_denied_client(server: McpServerProcess, plugin_python: str) -> None:
    response = post_initialize(server.url, bearer(mint(plugin_python, "mallory", "oscal:read")))
    assert response.status_code == 401
    assert audit_events(server)[-1]["reason"] == "client_denied"


def test_audit_hook_sees_insufficient_scope(server: McpServerProcess, plugin_python: str) -> None:
    response = post_initialize(server.url, bearer(mint(plugin_python, "bob", "profile")))
    assert response.status_code == 403
    assert {"outcome": "reject", "reason": "insufficient_scope", "client_id": "bob"}.items() <= audit_events(server)[
        -1
    ].items()


def test_plugin_settings_are_validated_at_start_up(plugin_python: str) -> None:
    env = {"OSCAL_AUTH_VERIFIER": "demo-hmac", "OSCAL_AUTH_DEMO_HMAC_SECRET": "short"}
    with pytest.raises(RuntimeError, match=r"(?s)exited with 2:.*OSCAL_AUTH_DEMO_HMAC_SECRET: .*at least 8"):
        McpServerProcess(env=env, python=plugin_python).start()
