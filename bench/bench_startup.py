"""Start-up benchmark (issue #16): ``oscal-mcp --help``, and ``oscal-mcp`` over stdio vs a bare SDK server.

    .venv/bin/python bench/bench_startup.py [--repeat 9] [--before REF]

1. ``oscal-mcp --help`` (whole process). Target: under 0.5 s.
2. ``python -m oscal_mcp`` over stdio answering ``initialize`` and then ``tools/list``, against
   ``bench/bare_stdio_server.py`` (a bare ``MCPServer`` with as many tools, importing only the SDK),
   alternating ours/bare and bare/ours, ``--repeat`` pairs. Each run is a fresh process spoken to over
   raw newline-delimited JSON-RPC (no client library in the timed path); figures are the wall time to
   each answer and the child's CPU (user + system, from ``RUSAGE_CHILDREN`` once it is reaped).
   Goal: ours <= 1.2x bare to the ``tools/list`` answer. With ``--before REF`` this server as of a git
   ref (``git archive``, on ``PYTHONPATH``) runs in the same rotation, and ours/before is printed.
   Both trees are byte-compiled first, as pip does when it installs a wheel (the SDK's modules in the
   venv are): with ``PYTHONDONTWRITEBYTECODE=1`` (set on the benchmark machine) every start would
   otherwise compile this project's ~90 modules from source again, about 0.1 s that no installed
   copy pays. ``--source-only`` skips that, to see the difference.
3. An import-time breakdown of the stdio start path (``python -X importtime``, up to the ``tools/list``
   answer): self time summed per top-level package, and the modules with the largest cumulative time.

On a shared machine compare the ratios (paired, side by side), not the absolute numbers. Not collected
by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
BARE = ROOT / "bench" / "bare_stdio_server.py"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
OURS_GOAL = 1.2


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    env["OSCAL_MCP_LOG_LEVEL"] = "WARNING"
    return env


def help_seconds() -> float:
    command = shutil.which("oscal-mcp", path=str(Path(sys.executable).parent)) or ""
    argv = [command, "--help"] if command else [sys.executable, "-m", "oscal_mcp", "--help"]
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


@dataclass(frozen=True)
class StartUp:
    initialize: float  # wall seconds from spawn to the initialize answer
    tools_list: float  # wall seconds from spawn to the tools/list answer
    cpu: float  # the child's user + system CPU seconds, start to exit
    tools: tuple[str, ...]


def send(stream: IO[bytes], message: dict[str, Any]) -> None:
    stream.write(json.dumps(message).encode() + b"\n")
    stream.flush()


def answer(stream: IO[bytes], request_id: int) -> dict[str, Any]:
    """The next JSON-RPC response with `request_id` (skipping notifications and log lines)."""
    while line := stream.readline():
        with_id: dict[str, Any] = json.loads(line)
        if with_id.get("id") == request_id:
            return with_id
    raise RuntimeError(f"the server closed stdout before answering request {request_id}")


def start_up(
    argv: list[str], workdir: str, stderr: IO[bytes] | int = subprocess.DEVNULL, source: str | None = None
) -> StartUp:
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = clean_env() | ({"PYTHONPATH": source} if source else {})
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=workdir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
    assert process.stdin is not None and process.stdout is not None
    try:
        send(process.stdin, INITIALIZE)
        answer(process.stdout, 1)
        initialized = time.perf_counter() - started
        send(process.stdin, INITIALIZED)
        send(process.stdin, TOOLS_LIST)
        tools = answer(process.stdout, 2)["result"]["tools"]
        listed = time.perf_counter() - started
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    return StartUp(initialized, listed, cpu, tuple(tool["name"] for tool in tools))


def ours_argv(*python_flags: str) -> list[str]:
    return [sys.executable, *python_flags, "-m", "oscal_mcp"]


def bare_argv(tool_names: list[str], *python_flags: str) -> list[str]:
    return [sys.executable, *python_flags, str(BARE), *tool_names]


def paired_ratio(ours: list[float], bare: list[float]) -> str:
    ratios = sorted(o / b for o, b in zip(ours, bare, strict=True))
    low, high = (ratios[0], ratios[-1]) if len(ratios) < 4 else statistics.quantiles(ratios, n=4)[::2]
    return f"{statistics.median(ratios):5.2f}x ({low:.2f}-{high:.2f})"


def export_tree(ref: str, into: Path) -> str:
    """The repository's files at `ref` (``git archive``), to start the server as it was there."""
    into.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return str(into)


def compile_bytecode(tree: Path) -> None:
    """The tree's packages byte-compiled into ``__pycache__``, as an installed wheel's are."""
    packages = [str(tree / name) for name in ("oscal_mcp", "oscal_mcp_auth") if (tree / name).is_dir()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True, capture_output=True)


def compare_stdio(repeat: int, workdir: str, before: str | None, compiled: bool = True) -> list[str]:
    if compiled:
        compile_bytecode(ROOT)
    names = list(start_up(ours_argv(), workdir).tools)  # also warms the page cache
    argvs = {"ours": ours_argv(), "bare": bare_argv(names)}
    sources: dict[str, str | None] = {"ours": None, "bare": None}
    if before:
        argvs["before"], sources["before"] = ours_argv(), export_tree(before, Path(workdir) / "before")
        if compiled:
            compile_bytecode(Path(workdir) / "before")
    runs: dict[str, list[StartUp]] = {kind: [] for kind in argvs}
    kinds = list(argvs)
    for kind in kinds[1:]:
        start_up(argvs[kind], workdir, source=sources[kind])
    for pair in range(repeat):
        for kind in kinds[pair % len(kinds) :] + kinds[: pair % len(kinds)]:
            runs[kind].append(start_up(argvs[kind], workdir, source=sources[kind]))
    if runs["ours"][0].tools != runs["bare"][0].tools:
        raise RuntimeError(f"the tools differ: {runs['ours'][0].tools} vs {runs['bare'][0].tools}")
    print(
        f"\n2. stdio start-up, {len(names)} tools each, {repeat} alternating pairs: median seconds, "
        "ratio = median of paired ratios (IQR)"
    )
    print(f"  {'':28s} {'bare SDK':>9s} {'oscal-mcp':>10s}  {'ratio':22s} goal")
    for label, field in (
        ("to the initialize answer", "initialize"),
        ("to the tools/list answer", "tools_list"),
        ("child CPU, start to exit", "cpu"),
    ):
        ours: list[float] = [getattr(s, field) for s in runs["ours"]]
        bare: list[float] = [getattr(s, field) for s in runs["bare"]]
        ratio = paired_ratio(ours, bare)
        goal = ""
        if label.endswith("tools/list answer"):
            met = statistics.median(o / b for o, b in zip(ours, bare, strict=True)) <= OURS_GOAL
            goal = f"<= {OURS_GOAL}x {'ok' if met else 'NO'}"
        print(f"  {label:28s} {statistics.median(bare):9.3f} {statistics.median(ours):10.3f}  {ratio:22s} {goal}")
        if before:
            earlier: list[float] = [getattr(s, field) for s in runs["before"]]
            shown = f"{before}:"
            vs_before = paired_ratio(ours, earlier)
            print(f"  {'':28s} {shown:>9s} {statistics.median(earlier):10.3f}  ours/before {vs_before}")
    return names


def import_times(argv: list[str], workdir: str) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) of every import up to the tools/list answer."""
    with tempfile.TemporaryFile() as log:
        start_up(argv, workdir, stderr=log)
        log.seek(0)
        lines = log.read().decode(errors="replace").splitlines()
    entries = []
    for line in lines:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        entries.append((name.rstrip(), int(self_us), int(cumulative_us)))
    return entries


def report_imports(workdir: str, names: list[str], top: int) -> None:
    ours = import_times(ours_argv("-X", "importtime"), workdir)
    bare = import_times(bare_argv(names, "-X", "importtime"), workdir)
    by_package: dict[str, int] = defaultdict(int)
    for name, self_us, _ in ours:
        by_package[name.strip().split(".")[0]] += self_us
    total_ours, total_bare = sum(e[1] for e in ours), sum(e[1] for e in bare)
    print(
        f"\n3. imports on the stdio start path (one run, -X importtime; timing inflates them): oscal-mcp "
        f"{len(ours)} modules, {total_ours / 1e6:.2f} s; bare SDK {len(bare)} modules, {total_bare / 1e6:.2f} s"
    )
    print("  self time per top-level package (oscal-mcp):")
    for package, us in sorted(by_package.items(), key=lambda item: -item[1])[:top]:
        print(f"    {package:32s} {us / 1000:8.1f} ms  {100 * us / total_ours:4.1f}%")
    own = [e for e in ours if e[0].strip().split(".")[0] in ("oscal_mcp", "oscal_mcp_auth")]
    print("  this project's modules by cumulative time (with what each pulls in first; nesting by indentation):")
    print(f"    {'':48s} {'self':>8s} {'cumulative':>13s}")
    for name, self_us, cumulative in sorted(own, key=lambda e: -e[2])[:top]:
        print(f"    {name:48s} {self_us / 1000:5.1f} ms {cumulative / 1000:10.1f} ms")
    bare_modules = {name.strip() for name, _, _ in bare}
    extra: dict[str, list[int]] = defaultdict(list)
    for name, self_us, _ in ours:
        if name.strip() not in bare_modules:
            extra[name.strip().split(".")[0]].append(self_us)
    print(
        f"  imported by oscal-mcp but not by the bare SDK server: {sum(map(len, extra.values()))} modules, "
        f"{sum(map(sum, extra.values())) / 1000:.0f} ms of self time; per package:"
    )
    for package, times in sorted(extra.items(), key=lambda item: -sum(item[1]))[:top]:
        print(f"    {package:32s} {sum(times) / 1000:8.1f} ms  {len(times):4d} modules")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=9, help="runs of --help; alternating stdio pairs")
    parser.add_argument("--top", type=int, default=15, help="rows of the import-time breakdown")
    parser.add_argument("--before", metavar="REF", help="also start this server as of git REF, in the rotation")
    parser.add_argument("--source-only", action="store_true", help="do not byte-compile the trees first")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: a shared machine; compare the ratios")
    helps = [help_seconds() for _ in range(args.repeat)]
    print(f"1. oscal-mcp --help: median {statistics.median(helps):.3f} s, best {min(helps):.3f} s (target < 0.5 s)")
    with tempfile.TemporaryDirectory() as workdir:  # no .env file of the checkout leaks in
        names = compare_stdio(args.repeat, workdir, args.before, compiled=not args.source_only)
        report_imports(workdir, names, args.top)


if __name__ == "__main__":
    main()
