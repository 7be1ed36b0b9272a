"""Side by side with the reference OSCAL server (mcp-server-for-oscal 0.7.1), both over stdio, on the
same content (NIST SP 800-53 rev5 and its baselines plus NIST's example documents in one
OSCAL_DOCUMENTS_DIR), calls alternating so every server sees the same moment of the machine.

    .venv/bin/python bench/bench_tools.py --reference [--before main] [--rounds 5] [--calls 10]

The reference is installed into its own venv (``.bench-venvs/reference``, made with pyenv's
Python 3.13 and pip: never a dependency of this project) on first use. Each server is started once
and warmed (every call made once) before the timed rounds; per round and per call, the servers
take turns ``--calls`` times, one call each. Printed per call: median answer time
of each server, our ratio to the reference (at or below 1.0 is the goal), and the bytes of each
answer (the JSON-RPC result as sent). With ``--before REF`` this server as of a git ref runs too.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from bench.bench_tools import RawStdio

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_VENV = ROOT / ".bench-venvs" / "reference"
REFERENCE_PYTHON = Path("/root/.pyenv/versions/3.13.0/bin/python")
REFERENCE_PACKAGE = "mcp-server-for-oscal==0.7.1"
CATALOG = "613fca2d-704a-42e7-8e2b-b206fb92b456"  # the bundled SP 800-53 rev5 catalog
SSP = "cff8385f-108e-40a5-8f7a-82f3dc0eaba8"  # NIST's ssp-example.json
POAM = "714210d2-f8df-448c-be3e-e2213816cf79"  # NIST's ifa_plan-of-action-and-milestones.json
COMPONENT = "91f646c5-b1b6-4786-9ec3-2305a044e217"  # NIST's example-component-definition.json
HELLO = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}

Call = tuple[str, dict[str, Any]]
# (label, our call, the reference's call for the same question or None)
CASES: tuple[tuple[str, Call, Call | None], ...] = (
    ("about", ("about", {}), ("about", {})),
    ("list_oscal_models", ("list_oscal_models", {}), ("list_oscal_models", {})),
    (
        "search 'incident response'",
        ("search_oscal", {"text": "incident response"}),
        ("text_search_oscal", {"query_text": "incident response"}),
    ),
    (
        "search 'multi-factor authentication'",
        ("search_oscal", {"text": "multi-factor authentication"}),
        ("text_search_oscal", {"query_text": "multi-factor authentication"}),
    ),
    (
        "catalog controls, first page",
        ("list_catalog_controls", {}),
        ("list_catalog_controls", {"parent_doc_uuid": CATALOG}),
    ),
    ("catalog groups", ("list_catalog_groups", {}), ("list_catalog_groups", {"parent_doc_uuid": CATALOG})),
    (
        "control ac-2",
        ("get_catalog_control", {"control_id": "ac-2"}),
        ("get_child_element", {"element_id": "ac-2", "parent_doc_uuid": CATALOG}),
    ),
    (
        "object ac-2 by id",
        ("get_oscal_object", {"id": "ac-2"}),
        ("get_child_element", {"element_id": "ac-2", "parent_doc_uuid": CATALOG}),
    ),
    (
        "component by uuid",
        ("query_component_definition", {"query_type": "by_uuid", "value": COMPONENT}),
        ("query_component_definition", {"query_type": "by_uuid", "query_value": COMPONENT}),
    ),
    ("SSP components", ("list_ssp_components", {"ssp": SSP}), ("list_ssp_system_components", {"parent_doc_uuid": SSP})),
    ("POA&M items", ("list_poam_items", {"poam": POAM}), ("list_poam_items", {"parent_doc_uuid": POAM})),
    ("profile imports", ("get_profile", {"profile": "moderate"}), None),
    ("resolve_profile MODERATE", ("resolve_profile", {"profile": "MODERATE"}), None),
    ("search (connector)", ("search", {"query": "incident response"}), None),
    ("fetch ir-4 (connector)", ("fetch", {"id": "ir-4"}), None),
)


def reference_command() -> list[str]:
    """The reference server's command, its venv made on first use."""
    script = REFERENCE_VENV / "bin" / "mcp-server-for-oscal"
    if not script.exists():
        subprocess.run([str(REFERENCE_PYTHON), "-m", "venv", str(REFERENCE_VENV)], check=True)
        subprocess.run([str(REFERENCE_VENV / "bin" / "pip"), "install", "-q", REFERENCE_PACKAGE], check=True)
    return [str(script)]


def same_content(into: Path, *, with_sp800_53: bool) -> Path:
    """A directory with NIST's example documents, and SP 800-53 rev5 with its baselines for a server
    that does not bundle them (ours does: a second copy would double its answers)."""
    into.mkdir(parents=True, exist_ok=True)
    sources = [ROOT / "tests/data/nist-examples"]
    if with_sp800_53:
        sources.append(ROOT / "oscal_mcp/content/nist/sp800-53-rev5")
    for source in sources:
        for path in source.glob("*.json"):
            shutil.copy(path, into / path.name)
    return into


@dataclass(eq=False)
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    rpc: RawStdio | None = None
    times: dict[str, list[float]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    tools: set[str] = field(default_factory=set)

    async def call(self, label: str, call: Call, *, record: bool = True) -> None:
        assert self.rpc is not None
        name, arguments = call
        started = time.perf_counter()
        message = await self.rpc.request("tools/call", {"name": name, "arguments": arguments})
        elapsed = time.perf_counter() - started
        if record:
            self.times.setdefault(label, []).append(elapsed)
            self.sizes[label] = len(_json(message["result"]))


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value, separators=(",", ":")).encode()


def servers(folder: Path, before: str | None) -> list[Server]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    documents = same_content(folder / "examples", with_sp800_53=False)
    base = clean | {"OSCAL_DOCUMENTS_DIR": str(documents), "OSCAL_FILE_ROOTS": str(documents)}
    everything = same_content(folder / "everything", with_sp800_53=True)
    ours = [Server("ours", [sys.executable, "-m", "oscal_mcp"], base)]
    if before:
        from bench.bench_tools import export_tree

        tree = export_tree(before, folder / "before")
        ours.append(Server(before, [sys.executable, "-m", "oscal_mcp"], base | {"PYTHONPATH": tree}))
    return [*ours, Server("reference", reference_command(), clean | {"OSCAL_DOCUMENTS_DIR": str(everything)})]


async def run(before: str | None, rounds: int, calls: int, folder: Path) -> list[Server]:
    started = servers(folder, before)
    async with anyio.create_task_group():
        processes = [await anyio.open_process(s.command, env=s.env, cwd=str(folder)) for s in started]
        try:
            for server, process in zip(started, processes, strict=True):
                server.rpc = RawStdio(process)
                await server.rpc.request("initialize", HELLO)
                await server.rpc.notify("notifications/initialized")
                listed = await server.rpc.request("tools/list")
                server.tools = {tool["name"] for tool in listed["result"]["tools"]}
            for label, call in _calls(started):  # warm: every call once, and the warm-up done
                for server in call:
                    await server.call(label, call[server], record=False)
            for _ in range(rounds):
                for label, call in _calls(started):
                    for _ in range(calls):  # the servers take turns call by call
                        for server in call:
                            await server.call(label, call[server])
        finally:
            for process in processes:
                process.terminate()
    return started


def _calls(started: list[Server]) -> list[tuple[str, dict[Server, Call]]]:
    plan = []
    for label, ours, reference in CASES:
        by_server = {s: ours for s in started if s.name != "reference" and ours[0] in s.tools}
        if reference is not None:
            by_server[next(s for s in started if s.name == "reference")] = reference
        plan.append((label, by_server))
    return plan


def report(started: list[Server]) -> None:
    reference = next(s for s in started if s.name == "reference")
    names = [s.name for s in started]
    print(
        "| call | "
        + " | ".join(f"{n} ms" for n in names)
        + " | ratio ours/reference | "
        + " | ".join(f"{n} bytes" for n in names)
        + " |"
    )
    print("|---" * (2 * len(names) + 2) + "|")
    for label, _, _ in CASES:
        medians = [statistics.median(s.times[label]) * 1000 if label in s.times else None for s in started]
        ours = medians[0]
        ref = medians[-1]
        ratio = f"{ours / ref:.2f}" if ours and ref else "-"
        times = " | ".join(f"{m:.2f}" if m is not None else "-" for m in medians)
        sizes = " | ".join(f"{s.sizes[label]:,}" if label in s.sizes else "-" for s in started)
        print(f"| {label} | {times} | {ratio} | {sizes} |")
    del reference


async def bench_reference(before: str | None, rounds: int, calls: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        started = await run(before, rounds, calls, Path(folder))
    print(f"side by side over stdio, {rounds} rounds x {calls} calls per server and call, alternating:")
    report(started)
