"""`make demo-auth` shows OAuth working in one command: a 401 without a token, then the client
credentials example getting a token and calling a tool; and it leaves nothing running."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]


def test_make_demo_auth_shows_a_refusal_then_a_token_at_work() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    result = subprocess.run(["make", "demo-auth"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout
    assert "3. A request without a token: HTTP 401" in output
    assert 'WWW-Authenticate: Bearer resource_metadata="http://127.0.0.1:' in output
    assert "the server sees client 'oscal-demo-service' with scopes ['oscal:read']" in output
    assert "clients must connect to exactly http://127.0.0.1:" in output
    assert output.rstrip().endswith("6. Stopping the server and the Authorization Server.")
