"""A stdio server loads only what stdio needs: settings are validated whole, but the auth library's
runtime, metrics, tracing, the HTTP app and the Metaschema evaluator are never imported (issue #24:
start-up to ``tools/list``). Checked in a fresh interpreter: this test process has imported them all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import oscal_mcp_auth

# What the HTTP transport (and auth, metrics, tracing) or a validation needs, never the stdio start-up.
NOT_ON_STDIO = (
    "oscal_mcp.http_app",
    "oscal_mcp.metrics",
    "oscal_mcp.tracing",
    "oscal_mcp.audit",
    "oscal_mcp_auth.asgi",
    "oscal_mcp_auth.verifier",
    "oscal_mcp_auth.dpop",
    "oscal_mcp_auth.dpop_keys",
    "oscal_mcp_auth.telemetry",
    "oscal_mcp_auth.replay",
    "pluggy",
    "jose",
    "prometheus_client",
    "opentelemetry.sdk",
    "oscal_mcp.oscal.metaschema.checking",
    "oscal_mcp.oscal.metaschema.metapath_eval",
)
STDIO_START = """
import json, sys
from oscal_mcp.config import load_settings
from oscal_mcp.server import build_server
build_server(load_settings({"OSCAL_AUTH_ISSUER_URL": "https://issuer.example.com",
                            "OSCAL_AUTH_DPOP_REQUIRED": "true"}))
print(json.dumps(sorted(sys.modules)))
"""


def test_building_the_stdio_server_imports_no_http_auth_runtime_metrics_or_evaluator(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", STDIO_START], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True
    )
    loaded = set(json.loads(run.stdout))
    assert "oscal_mcp_auth.settings" in loaded  # the auth section is still read and validated
    assert "mcp.server.mcpserver" in loaded
    assert sorted(loaded.intersection(NOT_ON_STDIO)) == []


def test_every_public_name_of_the_auth_library_still_imports_from_the_package() -> None:
    for name in [*oscal_mcp_auth.__all__, "__version__"]:
        assert getattr(oscal_mcp_auth, name) is not None, name
    assert set(oscal_mcp_auth.__all__) <= set(dir(oscal_mcp_auth))
