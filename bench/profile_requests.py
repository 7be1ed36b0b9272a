"""Where a cheap request's server CPU goes: py-spy samples of a real server under HTTP load (issue #16).

    .venv/bin/pip install py-spy      # a sampling profiler; not a project dependency
    .venv/bin/python bench/profile_requests.py [--seconds 20] [--variants ours/sse/jwt,bare/sse/jwt]

Starts the servers of ``bench_overhead.py`` (``ours`` = ``python -m oscal_mcp``, ``bare`` = the SDK alone,
``sse``/``json`` responses, ``none``/``jwt`` auth), one at a time, drives it with the benchmark's cheap
calls in turn from one keep-alive connection, and samples it with ``py-spy record --nonblocking --gil``
at 200 Hz: only the thread holding the GIL is sampled, so a thread waiting in a system call (epoll, a
socket write that let the OS run the client) is not counted; time the kernel spends inside those calls
(stime, under 10% here) is not seen. On a loaded machine a preempted thread that holds the GIL still
counts, so the shares are estimates; the CPU per request comes from /proc. Each sample is charged
to its innermost frame of an *owner*: this project (``oscal_mcp``, ``oscal_mcp_auth``), the MCP SDK
(``mcp``, ``mcp_types``), the web stack (uvicorn, h11, starlette, sse-starlette) or the event loop
(asyncio, anyio, threading). Library code such as pydantic, json or python-jose counts for the owner
that called it. Prints the share of each owner, in ms of server CPU per request, and each owner's
top functions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.bench_overhead import (  # noqa: E402
    CALLS,
    BareProcess,
    CpuMeter,
    Target,
    Variant,
    body,
    capture_payloads,
    headers_for,
    jwt_key_pem,
    ours_process,
)

OWNERS = {
    "oscal_mcp": "this project",
    "oscal_mcp_auth": "this project",
    "mcp": "MCP SDK",
    "mcp_types": "MCP SDK",
    "uvicorn": "web stack",
    "h11": "web stack",
    "httptools": "web stack",
    "starlette": "web stack",
    "sse_starlette": "web stack",
    "asyncio": "event loop",
    "anyio": "event loop",
    "selectors": "event loop",
    "threading": "event loop",
    "concurrent": "event loop",
}
SAMPLE_RATE = 200
# Leaf frames of a thread that waits with the GIL released (the event loop in epoll, an idle worker
# thread); py-spy --nonblocking cannot always tell them from running ones, so they are dropped here.
IDLE_LEAVES = ("EpollSelector.select (selectors.py", "Condition.wait (threading.py")


def package_of(frame: str) -> str:
    """``describe (oscal_mcp/tools/about.py:40)`` -> ``oscal_mcp``; a stdlib file -> its module name."""
    location = frame.rsplit(" (", 1)[-1].rstrip(")")
    return location.split("/", 1)[0].removesuffix(".py").split(":", 1)[0]


def attribute(stack: list[str]) -> tuple[str, str]:
    """(owner, frame) of the innermost frame that belongs to an owner; ('other', leaf) if none does."""
    for frame in reversed(stack):
        owner = OWNERS.get(package_of(frame))
        if owner is not None:
            return owner, frame
    return "other", stack[-1] if stack else "?"


def read_samples(raw: Path) -> tuple[Counter[str], dict[str, Counter[str]], int]:
    """Busy samples per owner, per owner and frame, and the number of idle samples dropped."""
    owners: Counter[str] = Counter()
    frames: dict[str, Counter[str]] = {}
    idle = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text or not count.isdigit():
            continue
        stack = stack_text.split(";")
        if stack[-1].startswith(IDLE_LEAVES):
            idle += int(count)
            continue
        owner, frame = attribute(stack)
        owners[owner] += int(count)
        frames.setdefault(owner, Counter())[frame] += int(count)
    return owners, frames, idle


@contextlib.contextmanager
def one_server(variant: Variant, workdir: Path) -> Iterator[Target]:
    """The server of `variant`, started alone (a bare server first captures payloads from ours)."""
    with contextlib.ExitStack() as stack:
        if variant.kind == "ours":
            ours = stack.enter_context(ours_process(workdir, variant.wire, variant.auth))
            url, popen = ours.url, ours.process
        else:
            source = stack.enter_context(ours_process(workdir, "sse", variant.auth))
            payloads = workdir / "payloads.json"
            payloads.write_text(json.dumps(capture_payloads(source.url, headers_for(source.url, variant.auth))))
            key_file = workdir / "rs-1.pem"
            key_file.write_text(jwt_key_pem())
            bare = BareProcess(workdir, payloads, variant.wire, key_file if variant.auth else None)
            stack.callback(bare.stop)
            bare.start()
            url, popen = bare.url, bare.process
        assert popen is not None
        client = stack.enter_context(httpx.Client(timeout=60))
        yield Target(variant, popen.pid, url, client, headers_for(url, variant.auth))


def profile(variant: Variant, seconds: float, py_spy: str, top: int) -> None:
    bodies = [body(name, arguments) for name, arguments in CALLS]
    with tempfile.TemporaryDirectory() as workdir, one_server(variant, Path(workdir)) as target:
        for content in bodies * 10:
            target.post(content)  # warm-up: first calls load the indexes
        raw = Path(workdir) / "samples.txt"
        command = [py_spy, "record", "--pid", str(target.pid), "--format", "raw", "--output", str(raw)]
        command += ["--rate", str(SAMPLE_RATE), "--duration", str(int(seconds)), "--nonblocking", "--function", "--gil"]
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)  # let py-spy attach
        meter = CpuMeter(target.pid)
        before, requests = meter.start(), 0
        while spy.poll() is None:
            target.post(bodies[requests % len(bodies)])
            requests += 1
        per_request_ms = meter.seconds_since(before) / requests * 1000
        owners, frames, idle = read_samples(raw)
    total = sum(owners.values())
    print(
        f"\n== {variant.label}: {requests} requests, {per_request_ms:.2f} ms server CPU each; "
        f"{total} busy samples ({idle} idle ones dropped) =="
    )
    for owner, count in owners.most_common():
        print(f"  {owner:14s} {100 * count / total:5.1f}%  {per_request_ms * count / total:6.2f} ms/request")
    for owner, _ in owners.most_common():
        print(f"  top frames of {owner} (its innermost frame on the stack; share of the busy samples):")
        for frame, count in frames[owner].most_common(top):
            print(f"    {100 * count / total:5.1f}%  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="sampling time per server")
    parser.add_argument("--variants", default="ours/sse/jwt,bare/sse/jwt", help="kind/wire/auth, comma-separated")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        sys.exit("py-spy is not installed: run .venv/bin/pip install py-spy")
    print(f"py-spy at {SAMPLE_RATE} Hz, {args.seconds:g} s per server; calls: {', '.join(n for n, _ in CALLS)}")
    for spec in args.variants.split(","):
        kind, wire, auth = spec.strip().split("/")
        profile(Variant(kind, wire, auth == "jwt"), args.seconds, py_spy, args.top)


if __name__ == "__main__":
    main()
