"""Cold paths (issue #24): the first call of a tool after start-up against warm calls, compared fairly.

    .venv/bin/python bench/bench_cold_calls.py [--rounds 5] [--settle 4] [--before REF]

Each block is a fresh ``python -m oscal_mcp`` over stdio, spoken to in raw JSON-RPC (no client
library in the timed path): ``initialize``, ``tools/list``, ``--settle`` seconds (an assistant
choosing its first tool; the background warm-up runs), then

1. **first**: the tool's first call;
2. **back to back**: ten more calls right after, of the same arguments (for a lookup: cache hits)
   and of new arguments (another control, another query: a new answer each);
3. **after a pause**: ``--settle`` seconds of quiet again, then one call with new arguments: the
   tool is warm, the answer is new, and the process has been idle exactly as long as before the
   first call. Idle costs something whatever is called: the first message after a few quiet
   seconds pays for waking the transport's threads and for caches the rest of the machine has
   since filled, which is why the bare SDK server is measured too (a ``ping`` after the same pause
   against back-to-back pings).

Ratios: first / after a pause (the fair "warm call": same idle time, new answer) and first /
back-to-back new answers. Blocks alternate tool by tool, round after round, so every kind sees
the same machine load; medians and the interquartile range of the per-block ratios are printed.
With ``--before REF`` the server as of a git ref (``git archive``, on ``PYTHONPATH``, byte-compiled
like this tree) runs every tool block too, right after this tree's.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_startup import compile_bytecode, export_tree  # noqa: E402
from tests.tools.documents import catalog  # noqa: E402

BACK_TO_BACK = 10
# Not the checkout: ``python -m`` puts the working directory first on sys.path, ahead of PYTHONPATH.
WORKDIR = tempfile.gettempdir()
HELLO = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}
OTHER_CATALOG = catalog()
OTHER_CATALOG["catalog"]["metadata"]["title"] = "another small catalog"
# (tool, first arguments, new arguments for each later call): no later call repeats the first's
# answer, and the warm-up's own arguments (oscal_mcp.tools.families.STORE_EXERCISED) are not used.
CONTROLS = ("ac-3", "ac-4", "ac-5", "ac-6", "ac-7", "ac-8", "ac-11", "ac-12", "ac-14", "ac-17", "ac-18")
QUERIES = (
    "audit record",
    "configuration baseline",
    "contingency plan",
    "least privilege",
    "media sanitization",
    "boundary protection",
    "session lock",
    "flaw remediation",
    "security training",
    "supply chain",
    "malicious code",
)
CASES: tuple[tuple[str, dict[str, Any], list[dict[str, Any]]], ...] = (
    (
        "validate_oscal_content",
        {"content": json.dumps(catalog())},
        [{"content": json.dumps(OTHER_CATALOG)}] * (BACK_TO_BACK + 1),
    ),
    ("search_oscal", {"text": "account management"}, [{"text": query} for query in QUERIES]),
    ("get_catalog_control", {"control_id": "ac-2"}, [{"control_id": control} for control in CONTROLS]),
    ("get_oscal_object", {"id": "ac-2.1"}, [{"id": f"ac-2.{number}"} for number in range(2, 13)]),
)


@dataclass
class Block:
    first: float
    same: float  # median of back-to-back calls with the first call's arguments
    new: float  # median of back-to-back calls with new arguments
    paused: float  # a call with new arguments after a pause as long as the one before the first


class Rpc:
    def __init__(self, argv: list[str], source: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
        env["OSCAL_MCP_LOG_LEVEL"] = "WARNING"
        if source:
            env["PYTHONPATH"] = source
        self.process = subprocess.Popen(
            argv, cwd=WORKDIR, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout
        self.next_id = 0
        self.request("initialize", HELLO)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.request("tools/list")

    def send(self, message: dict[str, Any]) -> None:
        self.stdin.write(json.dumps(message).encode() + b"\n")
        self.stdin.flush()

    def request(self, method: str, params: dict[str, Any] | None = None) -> float:
        """Seconds until the answer (checked not to be an error)."""
        self.next_id += 1
        started = time.perf_counter()
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, **({"params": params} if params else {})})
        while line := self.stdout.readline():
            message = json.loads(line)
            if message.get("id") == self.next_id:
                took = time.perf_counter() - started
                assert "error" not in message and not message["result"].get("isError"), str(message)[:300]
                return took
        raise RuntimeError(f"the server closed stdout before answering {method}")

    def call(self, tool: str, arguments: dict[str, Any]) -> float:
        return self.request("tools/call", {"name": tool, "arguments": arguments})

    def close(self) -> None:
        self.stdin.close()
        self.process.wait(timeout=30)


def tool_block(
    tool: str, first: dict[str, Any], later: list[dict[str, Any]], settle: float, source: str | None = None
) -> Block:
    rpc = Rpc([sys.executable, "-m", "oscal_mcp"], source)
    try:
        time.sleep(settle)
        took = rpc.call(tool, first)
        same = statistics.median(rpc.call(tool, first) for _ in range(BACK_TO_BACK))
        new = statistics.median(rpc.call(tool, arguments) for arguments in later[:BACK_TO_BACK])
        time.sleep(settle)
        paused = rpc.call(tool, later[BACK_TO_BACK])
    finally:
        rpc.close()
    return Block(took, same, new, paused)


def bare_block(settle: float) -> Block:
    """The bare SDK server: a ping after the pause, then back-to-back pings, then a ping after a pause."""
    rpc = Rpc([sys.executable, str(ROOT / "bench" / "bare_stdio_server.py"), "about"])
    try:
        time.sleep(settle)
        took = rpc.request("ping")
        back_to_back = statistics.median(rpc.request("ping") for _ in range(BACK_TO_BACK))
        time.sleep(settle)
        paused = rpc.request("ping")
    finally:
        rpc.close()
    return Block(took, back_to_back, back_to_back, paused)


def spread(values: list[float]) -> str:
    ordered = sorted(values)
    low, high = (ordered[0], ordered[-1]) if len(ordered) < 4 else statistics.quantiles(ordered, n=4)[::2]
    return f"{statistics.median(ordered):5.2f}x ({low:.2f}-{high:.2f})"


def report(label: str, blocks: list[Block]) -> None:
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:6.2f}"

    print(
        f"  {label:26s} {ms([b.first for b in blocks])} {ms([b.same for b in blocks])} "
        f"{ms([b.new for b in blocks])} {ms([b.paused for b in blocks])}   "
        f"{spread([b.first / b.paused for b in blocks]):22s} {spread([b.first / b.new for b in blocks])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=4.0, help="seconds of quiet before the first and paused calls")
    parser.add_argument("--before", metavar="REF", help="also this server as of git REF, block after block")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = None
        if args.before:
            source = export_tree(args.before, Path(folder) / "before")
            compile_bytecode(Path(source))
        compile_bytecode(ROOT)
        measure(args.rounds, args.settle, args.before, source)


def measure(rounds: int, settle: float, before: str | None, source: str | None) -> None:
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs; {rounds} rounds, settle {settle:g} s")
    blocks: dict[str, list[Block]] = {}
    for _ in range(rounds):
        blocks.setdefault("bare SDK server: ping", []).append(bare_block(settle))
        for tool, first, later in CASES:
            blocks.setdefault(tool, []).append(tool_block(tool, first, later, settle))
            if before:
                blocks.setdefault(f"{tool} ({before})", []).append(tool_block(tool, first, later, settle, source))
    print(
        f"  {'median ms':26s} {'first':>6s} {'same':>6s} {'new':>6s} {'paused':>6s}   "
        f"{'first/paused (IQR)':22s} first/new (IQR)   goal: first/paused <= 1.5x"
    )
    for label, kept in blocks.items():
        report(label, kept)


if __name__ == "__main__":
    main()
