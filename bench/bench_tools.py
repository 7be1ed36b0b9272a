"""Benchmark of the OSCAL tools: first call against warm calls per tool, and large validations.

    .venv/bin/python bench/bench_tools.py [--sizes 1,10] [--repeat 3] [--rounds 2] [--settle 2]
    .venv/bin/python bench/bench_tools.py --skip-first-calls      # only the large validations
    .venv/bin/python bench/bench_tools.py --sizes "" --before main  # first calls, this tree and main

First calls: for each tool, a fresh ``python -m oscal_mcp`` process spoken to in raw JSON-RPC over
stdio (``initialize``, ``tools/list``, then the tool's first call and ten warm calls), so the times
are the server's answer times: the SDK's client would add its own first-call work (it compiles
each tool's output schema with jsonschema on the first result). Two kinds of block alternate,
round after round, so both see the same machine load: "at once" (the first call right after
``tools/list``) and "settled" (after ``--settle`` seconds, about the time an assistant takes to
choose its first tool, during which the background warm-up runs). Printed: first call, warm
median and their ratio (target: within 1.5x once settled). With ``--before REF`` the server as of
a git ref (``git archive``, on ``PYTHONPATH``) runs every block too, right after this tree's.

Large validations: catalogs of about 1 MB and 10 MB (NIST SP 800-53 rev 5 is about 10 MB) are
generated here, valid, invalid (every control without its title) and invalid everywhere (every
string replaced by a number), and validated through an in-memory MCP client session (the full tool
path), plus a per-level breakdown (parse / NIST JSON Schema with jsonschema-rs / trestle model).
jsonschema-rs is a core dependency, so these are the numbers of a plain ``pip install oscal-mcp``;
the optional packages present are printed. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anyio
from anyio.abc import Process
from mcp import Client

from oscal_mcp.config import load_settings
from oscal_mcp.oscal import schema_level, schemas
from oscal_mcp.oscal.documents import parse_document
from oscal_mcp.oscal.model_level import check_model
from oscal_mcp.oscal.models import get_model
from oscal_mcp.server import build_server
from tests.tools.documents import catalog, catalog_of_size, numbers_for_strings

MB = 1_000_000
WARM_CALLS = 10
SMALL_CATALOG = json.dumps(catalog())
CASES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("about", {}),
    ("list_oscal_models", {}),
    ("list_oscal_resources", {}),
    ("get_oscal_schema", {"model": "catalog"}),
    ("validate_oscal_content", {"content": SMALL_CATALOG}),
    ("validate_oscal_file", {"path": "catalog.json"}),
    ("list_component_definitions", {}),
    ("query_component_definition", {"query_type": "search", "value": "log"}),
    ("query_capabilities", {"query_type": "all"}),
    ("list_components", {}),
    ("get_catalog_control", {"control_id": "ac-2"}),
    ("search_oscal", {"text": "account management"}),
    ("get_oscal_object", {"id": "ac-2.1"}),
    ("search", {"query": "incident response"}),
    ("fetch", {"id": "ir-4"}),
)


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - started, value


# -- first calls in fresh processes ------------------------------------------------------------------


class RawStdio:
    """JSON-RPC over a server process's stdin/stdout, one message per line (the MCP stdio transport)."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.buffer = b""
        self.next_id = 0

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        await self.notify(method, params, id=self.next_id)
        while True:
            while b"\n" not in self.buffer:
                self.buffer += await self.process.stdout.receive()  # type: ignore[union-attr]
            line, self.buffer = self.buffer.split(b"\n", 1)
            message: dict[str, Any] = json.loads(line)
            if message.get("id") == self.next_id:
                assert "error" not in message and not message["result"].get("isError"), message
                return message

    async def notify(self, method: str, params: dict[str, Any] | None = None, **extra: Any) -> None:
        message = {"jsonrpc": "2.0", "method": method, **extra, **({"params": params} if params else {})}
        await self.process.stdin.send((json.dumps(message) + "\n").encode())  # type: ignore[union-attr]


async def first_and_warm(
    tool: str, args: dict[str, Any], settle: float, root: Path, source: str | None = None
) -> tuple[float, float]:
    """Seconds of the first call in a fresh server process, and the median of the warm calls after it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    env["OSCAL_FILE_ROOTS"] = str(root)
    if source:
        env["PYTHONPATH"] = source
    async with await anyio.open_process([sys.executable, "-m", "oscal_mcp"], env=env, cwd=str(root)) as process:
        rpc = RawStdio(process)
        hello = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}
        await rpc.request("initialize", hello)
        await rpc.notify("notifications/initialized")
        await rpc.request("tools/list")
        await anyio.sleep(settle)
        call = {"name": tool, "arguments": args}
        started = time.perf_counter()
        await rpc.request("tools/call", call)
        first = time.perf_counter() - started
        warm = []
        for _ in range(WARM_CALLS):
            started = time.perf_counter()
            await rpc.request("tools/call", call)
            warm.append(time.perf_counter() - started)
        process.terminate()
    return first, statistics.median(warm)


def export_tree(ref: str, into: Path) -> str:
    """The repository's files at `ref` (``git archive``), to start the server as it was there."""
    into.mkdir()
    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(root), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return str(into)


async def bench_first_calls(rounds: int, settle: float, before: str | None) -> None:
    print(f"first call vs warm calls, a fresh stdio process per tool ({rounds} round(s), blocks alternating):")
    modes = (("at once", 0.0), (f"settled {settle:g} s", settle))
    samples: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "catalog.json").write_text(SMALL_CATALOG)
        sources: dict[str, str | None] = {"this tree": None}
        if before:
            sources[before] = export_tree(before, root / "before")
        for _ in range(rounds):
            for mode, delay in modes:
                for tool, args in CASES:
                    for kind, source in sources.items():
                        timing = await first_and_warm(tool, args, delay, root, source)
                        samples.setdefault((kind, tool, mode), []).append(timing)
    for kind in sources:
        for mode, _ in modes:
            print(f"  {kind}, {mode}:")
            for tool, _ in CASES:
                runs = samples[(kind, tool, mode)]
                first = statistics.median(r[0] for r in runs)
                warm = statistics.median(r[1] for r in runs)
                print(
                    f"    {tool:28s} first {first * 1000:8.1f} ms  warm {warm * 1000:7.1f} ms  "
                    f"ratio {first / warm:6.2f}x"
                )


# -- large validations -------------------------------------------------------------------------------


def invalid(text: str) -> str:
    doc = json.loads(text)
    for group in doc["catalog"]["groups"]:
        for control in group["controls"]:
            del control["title"]
    return json.dumps(doc)


def invalid_everywhere(size: int) -> str:
    """A catalog of about `size` bytes in which every string below catalog.groups is a number."""
    doc = json.loads(catalog_of_size(int(size * 2.9)))  # numbers are shorter than the strings they replace
    doc["catalog"]["groups"] = numbers_for_strings(doc["catalog"]["groups"])
    return json.dumps(doc)


async def bench_tool(label: str, content: str, repeat: int) -> None:
    settings = load_settings({"OSCAL_MAX_DOCUMENT_BYTES": str(64 << 20)})
    async with Client(build_server(settings)) as client:
        runs = []
        result = None
        for _ in range(repeat):
            started = time.perf_counter()
            result = await client.call_tool("validate_oscal_content", {"content": content})
            runs.append(time.perf_counter() - started)
    assert result is not None and not result.is_error, result.content
    structured = result.structured_content or {}
    counts = {
        lv["level"]: f"{lv['error_count']}{'' if lv.get('error_count_complete', True) else '+'}"
        for lv in structured["levels"]
    }
    size = len(content.encode()) / MB
    best, median = min(runs), statistics.median(runs)
    result_bytes = len(json.dumps(structured))
    print(
        f"  {label:24s} {size:5.1f} MB  median {median:6.2f} s  best {best:6.2f} s  "
        f"{size / median:5.2f} MB/s  valid={structured['valid']!s:5s} errors={counts}  result {result_bytes} bytes"
    )


def bench_levels(label: str, content: str) -> None:
    model = get_model("catalog")
    choice = schemas.choose_version("1.2.1")
    parse_s, document = timed(parse_document, content, "json")
    schema_s, level = timed(schema_level.schema_level, model, document, 20, choice)
    model_s, _ = timed(check_model, model, document)
    size = len(content) / MB
    count = f"{level.error_count}{'' if level.error_count_complete else '+'}"
    gate_s, _ = timed(schemas.validator(model.name, "1.2.1").is_valid, document)
    print(
        f"  per level, {label} {size:.1f} MB: parse {parse_s:.2f} s, NIST JSON Schema {schema_s:.2f} s "
        f"({count} errors; validity alone {gate_s:.3f} s), trestle model {model_s:.2f} s"
    )


def optional_packages() -> str:
    present = [name for name in ("httpx", "jose", "redis", "jsonschema") if importlib.util.find_spec(name)]
    return ", ".join(present) or "none"


async def bench_validations(sizes: list[float], repeat: int) -> None:
    print(
        f"validate_oscal_content through an in-memory MCP session (optional packages present: {optional_packages()}):"
    )
    for size in sizes:
        content = catalog_of_size(int(size * MB))
        everywhere = invalid_everywhere(int(size * MB))
        await bench_tool(f"valid catalog {size:g} MB", content, repeat)
        await bench_tool(f"invalid catalog {size:g} MB", invalid(content), repeat)
        await bench_tool(f"invalid everywhere {size:g} MB", everywhere, repeat)
        bench_levels("valid", content)
        bench_levels("invalid", invalid(content))
        bench_levels("invalid everywhere", everywhere)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10", help="catalog sizes in MB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of first-call blocks")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between tools/list and a settled first call")
    parser.add_argument("--skip-first-calls", action="store_true")
    parser.add_argument("--before", metavar="REF", help="first calls of this server as of git REF too")
    parser.add_argument("--reference", action="store_true", help="side by side with mcp-server-for-oscal 0.7.1 only")
    parser.add_argument("--calls", type=int, default=10, help="with --reference: calls per server, call and round")
    args = parser.parse_args()
    if args.reference:
        from bench.bench_reference import bench_reference

        await bench_reference(args.before, args.rounds, args.calls)
        return
    if not args.skip_first_calls:
        await bench_first_calls(args.rounds, args.settle, args.before)
    await bench_validations([float(s) for s in args.sizes.split(",") if s], args.repeat)


if __name__ == "__main__":
    anyio.run(main)
