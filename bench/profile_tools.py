"""Where one tool call's server time goes: cProfile of ``MCPServer.call_tool`` in-process (issue #24).

    .venv/bin/python bench/profile_tools.py get_catalog_control '{"control_id": "ac-2"}' [--calls 50] [--top 14]

Builds the server with NIST's example documents in OSCAL_DOCUMENTS_DIR (as ``bench_reference.py``
does), calls the tool three times to warm it, times ``--calls`` calls (the server's side only: the
tool, the SDK's argument and output handling; no transport, no client), then profiles as many
more and prints the functions with the most own time. ``profile_requests.py`` is the transport-
level counterpart (py-spy under HTTP load). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402

from oscal_mcp.config import load_settings  # noqa: E402
from oscal_mcp.server import build_server  # noqa: E402


async def profile(tool: str, arguments: dict[str, object], calls: int, top: int) -> None:
    examples = ROOT / "tests" / "data" / "nist-examples"
    server = build_server(load_settings({"OSCAL_DOCUMENTS_DIR": str(examples)}))
    for _ in range(3):
        await server.call_tool(tool, arguments)
    started = time.perf_counter()
    for _ in range(calls):
        await server.call_tool(tool, arguments)
    print(f"{tool}: {(time.perf_counter() - started) * 1000 / calls:.3f} ms per call (server side)")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        await server.call_tool(tool, arguments)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tool")
    parser.add_argument("arguments", nargs="?", default="{}", help="the tool's arguments as JSON")
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--top", type=int, default=14)
    args = parser.parse_args()
    anyio.run(profile, args.tool, json.loads(args.arguments), args.calls, args.top)


if __name__ == "__main__":
    main()
