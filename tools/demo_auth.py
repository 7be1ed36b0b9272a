"""`make demo-auth`: see OAuth work locally in one command, then everything stops.

Starts the test Authorization Server (oidc-provider, tests/e2e/authserver) and oscal-mcp over
streamable-http with the jwt verifier, both on 127.0.0.1; shows the 401 a client without a token
gets; then runs examples/clients/client_credentials.py against the server, which finds the
Authorization Server through the server's metadata, gets a token and calls a tool.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.as_fixture import ensure_node_modules
from tests.e2e.auth_demo import MACHINE_CLIENT, MACHINE_SECRET, demo_stack
from tests.e2e.clients import INITIALIZE, MCP_HEADERS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "clients" / "client_credentials.py"


def say(text: str) -> None:
    print(text, flush=True)


def run_example(url: str, issuer: str) -> int:
    """examples/clients/client_credentials.py against the server, its output indented."""
    arguments = [url, "--client-id", MACHINE_CLIENT, "--issuer", issuer]
    say(f"4. python3 {EXAMPLE.relative_to(ROOT)} {' '.join(arguments)}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    env["MCP_CLIENT_SECRET"] = MACHINE_SECRET
    result = subprocess.run(  # noqa: S603 (this interpreter, our example, URLs we started)
        [sys.executable, str(EXAMPLE), *arguments], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    for line in result.stdout.splitlines():
        say(f"     {line}")
    if result.returncode != 0:
        say(f"   the example failed ({result.returncode}):\n{result.stderr}")
    return result.returncode


def main() -> int:
    ensure_node_modules()
    with demo_stack() as stack:
        say(f"1. Authorization Server (oidc-provider) running, issuer {stack.auth.issuer}")
        say(f"   client {MACHINE_CLIENT!r} registered for the client credentials grant")
        say(f"2. oscal-mcp serving {stack.server.url} with the jwt verifier:")
        for name, value in sorted(stack.settings.items()):
            say(f"     {name}={value}")
        answer = httpx.post(stack.server.url, json=INITIALIZE, headers=MCP_HEADERS, timeout=30)
        say(f"3. A request without a token: HTTP {answer.status_code}")
        say(f"     WWW-Authenticate: {answer.headers.get('www-authenticate')}")
        if run_example(stack.server.url, stack.auth.issuer) != 0:
            return 1
        say("5. What the server logged at start-up:")
        for line in stack.server.logs().splitlines():
            if " oscal_mcp: " in line:
                say(f"     {line.split(' oscal_mcp: ', 1)[1]}")
        say("6. Stopping the server and the Authorization Server.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
