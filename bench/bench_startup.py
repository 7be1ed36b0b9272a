"""Start-up benchmark: ``oscal-mcp --help`` (whole process) and start-up to the first tools/list
answer over stdio (spawn ``python -m oscal_mcp``, initialize, list tools).

    .venv/bin/python bench/bench_startup.py [--repeat 5]

Target: ``--help`` under 0.5 s, which needs the heavy libraries (MCP SDK, trestle, pydantic models)
to be imported lazily. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

ROOT = Path(__file__).resolve().parents[1]


def help_seconds() -> float:
    command = shutil.which("oscal-mcp", path=str(Path(sys.executable).parent)) or ""
    argv = [command, "--help"] if command else [sys.executable, "-m", "oscal_mcp", "--help"]
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


async def first_tools_list_seconds() -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "oscal_mcp"], env=env, cwd=str(ROOT))
    started = time.perf_counter()
    async with Client(params) as client:
        tools = await client.list_tools()
        elapsed = time.perf_counter() - started
    return elapsed, len(tools.tools)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    helps = [help_seconds() for _ in range(args.repeat)]
    print(f"oscal-mcp --help: median {statistics.median(helps):.3f} s, best {min(helps):.3f} s (target < 0.5 s)")
    lists = [await first_tools_list_seconds() for _ in range(args.repeat)]
    seconds = [s for s, _ in lists]
    print(
        f"stdio start-up to first tools/list ({lists[0][1]} tools): median {statistics.median(seconds):.3f} s, "
        f"best {min(seconds):.3f} s"
    )


if __name__ == "__main__":
    anyio.run(main)
