"""Server CPU per request: this server vs a bare SDK ``MCPServer`` with the same cheap tools (issue #16).

    .venv/bin/python bench/bench_overhead.py            # about 5 minutes on 2 busy cores
    .venv/bin/python bench/bench_overhead.py --quick    # about 1 minute, a smoke run (wider spread)
    .venv/bin/python bench/bench_overhead.py --before main   # plus the server as of a git ref, alongside

With ``--before REF`` four more processes run ``python -m oscal_mcp`` from ``git archive REF`` (on
``PYTHONPATH``, ahead of the editable install) in the same blocks, and an ours/before column reports a
change's effect measured side by side with the code it replaces.

Eight real processes on 127.0.0.1, all stateless streamable HTTP: ``python -m oscal_mcp`` and
``bench/bare_server.py`` (the SDK alone, same tool names, parameters and result classes, constant
results), each with SSE responses and with JSON responses (``OSCAL_MCP_JSON_RESPONSE=true`` /
the SDK's ``json_response=True``), each without auth and with RS256 jwt auth (a static PEM key, the
test keys of ``tests/auth/keys.py``; the bare server uses a hand-written python-jose verifier).

A round has one block per tool call. A block alternates at the finest grain: one request to each of
the eight servers in turn (the order rotates every time), repeated until a count or a time bound, and
each server's CPU is read before and after the block, so all eight are measured over the same
wall-clock window and a change in the machine's load weighs on them alike. (Blocks of one server
after another, tried first, left inter-quartile ranges of +-40% on this shared machine.) Server CPU is
the nanosecond sum of the process's threads' ``/proc/<pid>/task/*/schedstat``, or utime + stime of
``/proc/<pid>/stat`` (10 ms ticks, too coarse for these blocks) when a thread ended mid-block. A figure
is the median over blocks; a ratio is the median of the per-block ratios, with its inter-quartile
range. The load generator is this process: one keep-alive httpx connection per server posting
prepared bodies; its own CPU per request is printed too.

Goals: every cheap tool within 1.05x of the bare SDK; jwt auth within 1.10x of no auth.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.bare_server import payload_key  # noqa: E402
from tests.auth.keys import ISSUER, mint, public_keys  # noqa: E402
from tests.e2e.as_fixture import public_pem  # noqa: E402
from tests.e2e.mcp_server import McpServerProcess, clean_environment, free_port  # noqa: E402

CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("about", {}),
    ("list_oscal_models", {}),
    ("list_oscal_resources", {}),
    ("list_oscal_resources", {"topic": "sdks"}),
    ("list_component_definitions", {}),
    ("list_components", {}),
    ("list_capabilities", {}),
)
HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
}
SERVER_ENV = {"OSCAL_MCP_STATELESS_HTTP": "true", "OSCAL_MCP_LOG_LEVEL": "WARNING"}
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
OURS_GOAL, AUTH_GOAL = 1.05, 1.10


@dataclass(frozen=True)
class Plan:
    rounds: int
    block_requests: int  # the count bound of a block: requests to each server
    block_seconds: float  # the time bound of a block
    warmup: int


FULL = Plan(rounds=12, block_requests=40, block_seconds=6.0, warmup=15)
QUICK = Plan(rounds=4, block_requests=25, block_seconds=4.0, warmup=5)


@dataclass(frozen=True)
class Variant:
    kind: str  # "ours", "bare" or "before" (this server as of --before REF)
    wire: str  # "sse" or "json"
    auth: bool

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.wire}/{'jwt' if self.auth else 'none'}"


KINDS = ("bare", "ours")


def variants(kinds: tuple[str, ...] = KINDS) -> tuple[Variant, ...]:
    return tuple(Variant(k, w, a) for w in ("sse", "json") for a in (False, True) for k in kinds)


VARIANTS = variants()


def call_label(name: str, arguments: dict[str, Any]) -> str:
    return name + "".join(f" {k}={v}" for k, v in arguments.items())


def body(name: str, arguments: dict[str, Any]) -> bytes:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    return json.dumps(message, separators=(",", ":")).encode()


def cpu_ticks(pid: int) -> int:
    """utime + stime of every thread of the process, alive or gone, in clock ticks (proc(5): fields 14, 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def thread_cpu_ns(pid: int) -> dict[str, int]:
    """Nanoseconds on CPU of each live thread (first field of /proc/<pid>/task/<tid>/schedstat)."""
    tasks = Path(f"/proc/{pid}/task")
    result: dict[str, int] = {}
    for task in tasks.iterdir():
        with contextlib.suppress(OSError):
            result[task.name] = int((task / "schedstat").read_text().split()[0])
    return result


class CpuMeter:
    """Server CPU over a block: the precise per-thread schedstat sum while the process's threads stay
    the same (sync tools run in the SDK's worker threads); the tick-resolution /proc/<pid>/stat figure
    when a thread ended during the block (its schedstat is gone with it)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.coarse_blocks = 0

    def start(self) -> tuple[int, dict[str, int]]:
        return cpu_ticks(self.pid), thread_cpu_ns(self.pid)

    def seconds_since(self, start: tuple[int, dict[str, int]]) -> float:
        ticks, threads = cpu_ticks(self.pid), thread_cpu_ns(self.pid)
        if set(start[1]) <= set(threads):
            return sum(ns - start[1].get(tid, 0) for tid, ns in threads.items()) / 1e9
        self.coarse_blocks += 1
        return (ticks - start[0]) / TICKS_PER_SECOND


def jwt_key_pem() -> str:
    return public_pem(next(k for k in public_keys()["keys"] if k["kid"] == "rs-1"))


# --- the servers -----------------------------------------------------------------------------------------


class BareProcess:
    """``bench/bare_server.py`` on a free loopback port."""

    def __init__(self, workdir: Path, payloads: Path, wire: str, key_file: Path | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.command = [sys.executable, str(ROOT / "bench" / "bare_server.py"), "--port", str(self.port)]
        self.command += ["--payloads", str(payloads)]
        if wire == "json":
            self.command.append("--json-response")
        if key_file is not None:
            self.command += ["--public-key-file", str(key_file), "--issuer", ISSUER]
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.process = subprocess.Popen(
            self.command, cwd=self.workdir, env=clean_environment(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bare server exited with {self.process.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError(f"bare server did not listen within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Target:
    variant: Variant
    pid: int
    url: str
    client: httpx.Client
    headers: dict[str, str]
    content_types: set[str] = field(default_factory=set)
    meter: CpuMeter = field(init=False)

    def __post_init__(self) -> None:
        self.meter = CpuMeter(self.pid)

    def post(self, content: bytes) -> None:
        response = self.client.post(self.url, content=content, headers=self.headers)
        if response.status_code != 200 or b'"isError":false' not in response.content:
            raise RuntimeError(f"{self.variant.label}: HTTP {response.status_code} {response.content[:300]!r}")
        self.content_types.add(response.headers.get("content-type", "").split(";")[0])


def export_tree(ref: str, into: Path) -> Path:
    """The repository's files at `ref` (``git archive``), to run the server as it was there."""
    into.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def ours_process(workdir: Path, wire: str, auth: bool, source: Path | None = None) -> McpServerProcess:
    env = dict(SERVER_ENV)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    if wire == "json":
        env["OSCAL_MCP_JSON_RESPONSE"] = "true"
    if auth:
        env.update(
            {
                "OSCAL_AUTH_ISSUER_URL": ISSUER,
                "OSCAL_AUTH_JWT_PUBLIC_KEY": jwt_key_pem(),
                "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
            }
        )
    return McpServerProcess(env=env, cwd=workdir)


def headers_for(url: str, auth: bool) -> dict[str, str]:
    headers = dict(HEADERS)
    if auth:
        token = mint("rs-1", "RS256", aud=url, jti=f"overhead-{url}", exp=int(time.time()) + 7200)
        headers["authorization"] = f"Bearer {token}"
    return headers


def capture_payloads(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """The structured result of every benchmarked call, as the real server answers it."""
    payloads: dict[str, Any] = {}
    with httpx.Client(timeout=60) as client:
        for name, arguments in CALLS:
            response = client.post(url, content=body(name, arguments), headers=headers)
            text = response.text
            data = text.split("data: ", 1)[1] if text.startswith("event:") else text
            payloads[payload_key(name, arguments)] = json.loads(data)["result"]["structuredContent"]
    return payloads


@contextlib.contextmanager
def servers(workdir: Path, before: Path | None) -> Iterator[dict[Variant, Target]]:
    key_file = workdir / "rs-1.pem"
    key_file.write_text(jwt_key_pem())
    ours = {v: ours_process(workdir, v.wire, v.auth) for v in VARIANTS if v.kind == "ours"}
    if before is not None:
        ours |= {v: ours_process(workdir, v.wire, v.auth, before) for v in variants(("before",))}
    bare: dict[Variant, BareProcess] = {}
    with contextlib.ExitStack() as stack:
        for ours_server in ours.values():
            stack.enter_context(ours_server)
        for auth in (False, True):
            source = ours[Variant("ours", "sse", auth)]
            payloads = workdir / f"payloads-{auth}.json"
            payloads.write_text(json.dumps(capture_payloads(source.url, headers_for(source.url, auth))))
            for wire in ("sse", "json"):
                process = BareProcess(workdir, payloads, wire, key_file if auth else None)
                stack.callback(process.stop)
                process.start()
                bare[Variant("bare", wire, auth)] = process
        targets: dict[Variant, Target] = {}
        for variant in variants(KINDS + (("before",) if before else ())):
            server = bare[variant] if variant.kind == "bare" else ours[variant]
            popen = server.process
            assert popen is not None
            client = stack.enter_context(httpx.Client(timeout=60, limits=httpx.Limits(max_keepalive_connections=1)))
            targets[variant] = Target(variant, popen.pid, server.url, client, headers_for(server.url, variant.auth))
        yield targets


# --- measuring -------------------------------------------------------------------------------------------

Samples = dict[tuple[Variant, str], list[float]]


def block(targets: dict[Variant, Target], content: bytes, plan: Plan) -> tuple[dict[Variant, float], float]:
    """One block: the same call to every server in turn (the order rotates each time), repeated until
    the count or the time bound; every server's CPU is read over the same wall-clock window, so a
    change in the machine's load weighs on all of them alike. Returns the server CPU seconds per
    request of each variant and the load generator's own CPU seconds per request."""
    deadline = time.monotonic() + plan.block_seconds
    client_started = time.process_time()
    before = {variant: target.meter.start() for variant, target in targets.items()}
    order = tuple(targets)
    done = 0
    while done < plan.block_requests and time.monotonic() < deadline:
        shift = done % len(order)
        for variant in order[shift:] + order[:shift]:
            targets[variant].post(content)
        done += 1
    per_request = {v: target.meter.seconds_since(before[v]) / done for v, target in targets.items()}
    return per_request, (time.process_time() - client_started) / (done * len(order))


def measure(targets: dict[Variant, Target], plan: Plan) -> tuple[Samples, list[float]]:
    """Server CPU seconds per request for every (variant, call), one figure per block; and the load
    generator's own CPU seconds per request, every block."""
    bodies = {call_label(n, a): body(n, a) for n, a in CALLS}
    for target in targets.values():
        for content in bodies.values():
            for _ in range(plan.warmup):
                target.post(content)
    samples: Samples = {(v, label): [] for v in targets for label in bodies}
    client_cpu: list[float] = []
    for round_ in range(plan.rounds):
        started = time.monotonic()
        for label, content in bodies.items():
            per_request, client = block(targets, content, plan)
            for variant, seconds in per_request.items():
                samples[(variant, label)].append(seconds)
            client_cpu.append(client)
        print(f"  round {round_ + 1}/{plan.rounds}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return samples, client_cpu


def paired(samples: Samples, top: Variant, bottom: Variant, label: str) -> tuple[float, float, float]:
    """The median of the per-block ratios top/bottom, and their inter-quartile range."""
    ratios = sorted(t / b for t, b in zip(samples[(top, label)], samples[(bottom, label)], strict=True))
    if len(ratios) < 4:
        return statistics.median(ratios), ratios[0], ratios[-1]
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), q1, q3


# --- report ----------------------------------------------------------------------------------------------


def ratio_cell(ratio: tuple[float, float, float], goal: float | None) -> str:
    mark = "" if goal is None else (" ok" if ratio[0] <= goal else " NO")
    return f"{ratio[0]:5.2f}x ({ratio[1]:.2f}-{ratio[2]:.2f}){mark}"


def report_wire(wire: str, samples: Samples, json_supported: bool) -> None:
    labels = [call_label(n, a) for n, a in CALLS]
    v = {(k, a): Variant(k, wire, a) for k in ("ours", "bare") for a in (False, True)}
    title = "SSE responses" if wire == "sse" else "JSON responses (json_response=True)"
    print(f"\n== {title}: server CPU per request, ms (median over blocks) ==")
    if not json_supported and wire == "json":
        print("  NOTE: this build of oscal-mcp ignores OSCAL_MCP_JSON_RESPONSE (it answered text/event-stream),")
        print("  so the 'ours' columns below are SSE answers compared with the bare SDK's JSON answers.")
    print(f"  {'call':34s} {'bare':>7s} {'ours':>7s} {'bare+jwt':>9s} {'ours+jwt':>9s}")
    for label in labels:
        bare, ours, bare_jwt, ours_jwt = (
            statistics.median(samples[(v[key], label)]) * 1000
            for key in (("bare", False), ("ours", False), ("bare", True), ("ours", True))
        )
        print(f"  {label:34s} {bare:7.2f} {ours:7.2f} {bare_jwt:9.2f} {ours_jwt:9.2f}")
    print(f"  ratios: median of per-block pairs (IQR); goals ours/bare <= {OURS_GOAL}x, jwt/none <= {AUTH_GOAL}x")
    heads = ("ours/bare", "ours/bare, jwt", "ours jwt/none", "bare jwt/none")
    print(f"  {'call':34s} " + " ".join(f"{h:22s}" for h in heads))
    for label in labels:
        cells = (
            ratio_cell(paired(samples, v[("ours", False)], v[("bare", False)], label), OURS_GOAL),
            ratio_cell(paired(samples, v[("ours", True)], v[("bare", True)], label), OURS_GOAL),
            ratio_cell(paired(samples, v[("ours", True)], v[("ours", False)], label), AUTH_GOAL),
            ratio_cell(paired(samples, v[("bare", True)], v[("bare", False)], label), None),
        )
        print(f"  {label:34s} " + " ".join(f"{c:22s}" for c in cells))


def report_wires(samples: Samples, json_supported: bool) -> None:
    print("\n== JSON / SSE responses, no auth: server CPU ratio (median of per-block pairs, IQR) ==")
    print(f"  {'call':34s} {'bare':22s} {'ours':22s}")
    for name, arguments in CALLS:
        label = call_label(name, arguments)
        bare = paired(samples, Variant("bare", "json", False), Variant("bare", "sse", False), label)
        ours = paired(samples, Variant("ours", "json", False), Variant("ours", "sse", False), label)
        note = "" if json_supported else "  (ours: SSE both)"
        print(f"  {label:34s} {ratio_cell(bare, None):22s} {ratio_cell(ours, None):22s}{note}")


def report_before(samples: Samples, ref: str) -> None:
    print(f"\n== this tree / {ref}: server CPU ratio (median of per-block pairs, IQR); below 1 is a gain ==")
    wires = [(w, a) for w in ("sse", "json") for a in (False, True)]
    print(f"  {'call':34s} " + " ".join(f"{w + (', jwt' if a else ''):22s}" for w, a in wires))
    for name, arguments in CALLS:
        label = call_label(name, arguments)
        cells = (
            ratio_cell(paired(samples, Variant("ours", w, a), Variant("before", w, a), label), None) for w, a in wires
        )
        print(f"  {label:34s} " + " ".join(f"{c:22s}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer, smaller blocks (a smoke run)")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument("--before", metavar="REF", help="also run this server as of git REF, side by side")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan = Plan(args.rounds, plan.block_requests, plan.block_seconds, plan.warmup)
    load_before = os.getloadavg()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        before = export_tree(args.before, workdir / "before") if args.before else None
        with servers(workdir, before) as targets:
            samples, client_cpu = measure(targets, plan)
            json_type = targets[Variant("ours", "json", False)].content_types
            coarse = sum(target.meter.coarse_blocks for target in targets.values())
            servers_run = len(targets)
    json_supported = json_type == {"application/json"}
    print(f"oscal-mcp overhead vs the bare SDK (issue #16); Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(
        f"{plan.rounds} rounds x {len(CALLS)} calls, a block per call of <= {plan.block_requests} requests to "
        f"each of {servers_run} servers in turn / {plan.block_seconds:g} s"
    )
    blocks = plan.rounds * len(CALLS) * servers_run
    print(
        f"server CPU: per-thread /proc/<pid>/task/*/schedstat (ns); {coarse} of {blocks} readings fell back to "
        f"utime+stime of /proc/<pid>/stat ({TICKS_PER_SECOND} ticks/s) because a worker thread ended"
    )
    print(
        f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after: figures come from a shared, "
        "loaded machine; compare the ratios (side by side, alternating blocks), not the absolute numbers"
    )
    print(f"oscal-mcp JSON responses (OSCAL_MCP_JSON_RESPONSE): {'supported' if json_supported else 'NOT supported'}")
    server_median = statistics.median(s for values in samples.values() for s in values)
    print(
        f"load generator CPU per request: {statistics.median(client_cpu) * 1000:.2f} ms "
        f"(server: {server_median * 1000:.2f} ms; it runs in its own process)"
    )
    for wire in ("sse", "json"):
        report_wire(wire, samples, json_supported)
    report_wires(samples, json_supported)
    if args.before:
        report_before(samples, args.before)
    print(f"\n(total {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
