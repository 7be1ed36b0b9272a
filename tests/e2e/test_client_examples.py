"""The README's client examples (examples/clients/), run as a user runs them against a live server
with authentication: the test Authorization Server and oscal-mcp with the jwt verifier.

The authorization code example opens "the browser" with `webbrowser`; ``BROWSER`` points it at
`tests.e2e.headless_login`, which signs in on the AS's development pages as a user would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.auth_demo import APP_CLIENT, MACHINE_CLIENT, MACHINE_SECRET, SCOPE, DemoStack, demo_stack
from tests.e2e.headless_login import LOGIN

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "clients"
SHOWN = re.compile(r"```python\n# (examples/clients/[a-z_]+\.py)\n(.*?)```", re.DOTALL)


@pytest.fixture(scope="module")
def stack() -> Iterator[DemoStack]:
    with demo_stack() as deployment:
        yield deployment


def run_example(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OSCAL_", "MCP_", "BROWSER"))}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env={**clean, **(env or {})}, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_client_credentials_example_gets_a_token_and_calls_a_tool(stack: DemoStack) -> None:
    output = run_example(
        "client_credentials.py", stack.server.url, "--client-id", MACHINE_CLIENT, "--issuer", stack.auth.issuer,
        env={"MCP_CLIENT_SECRET": MACHINE_SECRET},
    )  # fmt: skip
    assert f"the server sees client {MACHINE_CLIENT!r} with scopes [{SCOPE!r}]" in output
    assert "token: Bearer" in output


def test_authorization_code_example_signs_a_user_in_with_pkce(stack: DemoStack) -> None:
    browser = f"{sys.executable} -m tests.e2e.headless_login %s"
    output = run_example("authorization_code.py", stack.server.url, "--client-id", APP_CLIENT, env={"BROWSER": browser})
    assert f"the server sees user {LOGIN!r} of app {APP_CLIENT!r}, scopes [{SCOPE!r}]" in output


def test_bearer_token_example_calls_a_tool_with_a_given_token(stack: DemoStack) -> None:
    token = stack.auth.client_credentials_token(MACHINE_CLIENT, MACHINE_SECRET, resource=stack.server.url, scope=SCOPE)
    output = run_example("bearer_token.py", stack.server.url, env={"MCP_ACCESS_TOKEN": token})
    assert f"'client_id': {MACHINE_CLIENT!r}" in output


def test_stdio_example_starts_the_server_and_calls_a_tool() -> None:
    output = run_example("stdio.py", str(Path(sys.executable).parent / "oscal-mcp"))
    assert "'transport': 'stdio'" in output


def test_readme_shows_the_tested_examples() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = SHOWN.findall(readme)
    assert {name for name, _ in shown} == {f"examples/clients/{path.name}" for path in EXAMPLES.glob("*.py")}
    for name, text in shown:
        assert text in (ROOT / name).read_text(encoding="utf-8"), f"the README's copy of {name} differs from the file"
