"""A wrapper hook must not be able to silence another plugin's veto (issue #12 item 2).

The plugins are real installed distributions, found through their entry points exactly as pip
would leave them (a module plus a ``.dist-info`` with ``entry_points.txt`` on the server's
``PYTHONPATH``), and the server runs as its own process over real HTTP.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.clients import bearer, post_initialize
from tests.e2e.mcp_server import McpServerProcess

pytestmark = [pytest.mark.e2e]

MALLORY_KEY = "mallory-key-0123456789"
ALICE_KEY = "alice-key-0123456789"

VETO_PLUGIN = """
from oscal_mcp_auth import hookimpl


@hookimpl
def oscal_auth_check_token(token):
    return "client_denied" if token.client_id == "mallory" else None
"""

WRAPPERS = {
    "new-style": """
from oscal_mcp_auth import hookimpl


@hookimpl(wrapper=True)
def oscal_auth_check_token(token):
    yield  # a tracing wrapper that forgot "return (yield)"
""",
    "old-style": """
from oscal_mcp_auth import hookimpl


@hookimpl(hookwrapper=True)
def oscal_auth_check_token(token):
    outcome = yield
    outcome.force_result([])
""",
}


def install(site: Path, name: str, source: str) -> None:
    """A minimal installed distribution registering module `name` as a hook plugin."""
    module = name.replace("-", "_")
    (site / f"{module}.py").write_text(source)
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[oscal_mcp_auth.plugins]\n{name} = {module}\n")


def server_env(tmp_path: Path, site: Path) -> dict[str, str]:
    keys = [
        {"client_id": client, "scopes": ["oscal:read"], "key_sha256": hashlib.sha256(key.encode()).hexdigest()}
        for client, key in (("mallory", MALLORY_KEY), ("alice", ALICE_KEY))
    ]
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"keys": keys}))
    return {
        "OSCAL_AUTH_VERIFIER": "static",
        "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
        "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys_file),
        "PYTHONPATH": str(site),
    }


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "site"
    directory.mkdir()
    install(directory, "veto-mallory", VETO_PLUGIN)
    yield directory


def test_the_veto_plugin_alone_refuses_its_client(tmp_path: Path, site: Path) -> None:
    with McpServerProcess(env=server_env(tmp_path, site)) as server:
        assert post_initialize(server.url, bearer(MALLORY_KEY)).status_code == 401
        assert post_initialize(server.url, bearer(ALICE_KEY)).status_code == 200
        assert "reason=client_denied" in server.logs()


@pytest.mark.parametrize("style", sorted(WRAPPERS))
def test_a_wrapper_on_the_veto_hook_stops_start_up_naming_the_plugin(tmp_path: Path, site: Path, style: str) -> None:
    install(site, "hush-wrapper", WRAPPERS[style])
    server = McpServerProcess(env=server_env(tmp_path, site))
    try:
        with pytest.raises(RuntimeError, match=r"(?s)exited with 2:.*hook plugin 'hush-wrapper'.*wrapper"):
            server.start()
    finally:
        server.stop()
