"""What telemetry costs: server CPU per request with metrics on, and with tracing exporting, against
the same server with both off (issue #25).

    .venv/bin/python bench/bench_telemetry.py            # about 2 minutes on 2 busy cores
    .venv/bin/python bench/bench_telemetry.py --quick    # about 40 s, a smoke run (wider spread)

Three real ``python -m oscal_mcp`` processes on 127.0.0.1, stateless streamable HTTP, RS256 jwt auth
(the static PEM key of ``tests/auth/keys.py``), the cheap ``about`` tool:

- ``off``: no metrics, no tracing;
- ``metrics``: ``OSCAL_MCP_METRICS_PORT`` set (the auth plugin, tool-call middleware and session
  collector on; the listener idle, as between two scrapes);
- ``tracing``: ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a local OTLP/HTTP receiver in this
  process, so every span is really batched, serialised and exported (the export thread's CPU is
  the server's).

The method is `bench_overhead`'s: a block sends one request to each server in turn (the order
rotates), until a count or a time bound, reading each server's CPU (per-thread schedstat) over the
same window; a ratio is the median of the per-block ratios, with its inter-quartile range.

Goals: metrics <= 1.05x, tracing <= 1.15x of off.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.bench_overhead import CpuMeter, body, headers_for, ours_process, paired, ratio_cell  # noqa: E402
from tests.e2e.mcp_server import free_port  # noqa: E402
from tests.e2e.otlp_receiver import OtlpReceiver  # noqa: E402

VARIANTS = ("off", "metrics", "tracing")
GOALS = {"metrics": 1.05, "tracing": 1.15}
CALL = body("about", {})
LABEL = "about"


class Server:
    def __init__(self, name: str, url: str, pid: int, client: httpx.Client, headers: dict[str, str]) -> None:
        self.name, self.url, self.client, self.headers = name, url, client, headers
        self.meter = CpuMeter(pid)

    def post(self) -> None:
        response = self.client.post(self.url, content=CALL, headers=self.headers)
        if response.status_code != 200 or b'"isError":false' not in response.content:
            raise RuntimeError(f"{self.name}: HTTP {response.status_code} {response.content[:300]!r}")


@contextlib.contextmanager
def servers(workdir: Path, receiver: OtlpReceiver) -> Iterator[dict[str, Server]]:
    extra = {
        "off": {},
        "metrics": {"OSCAL_MCP_METRICS_PORT": str(free_port())},
        "tracing": {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint},
    }
    with contextlib.ExitStack() as stack:
        found: dict[str, Server] = {}
        for name in VARIANTS:
            process = ours_process(workdir, "sse", True)
            process.env.update(extra[name])
            stack.enter_context(process)
            assert process.process is not None
            client = stack.enter_context(httpx.Client(timeout=60, limits=httpx.Limits(max_keepalive_connections=1)))
            found[name] = Server(name, process.url, process.process.pid, client, headers_for(process.url, True))
        yield found


def block(targets: dict[str, Server], requests: int, seconds: float) -> dict[str, float]:
    deadline = time.monotonic() + seconds
    before = {name: server.meter.start() for name, server in targets.items()}
    order = tuple(targets)
    done = 0
    while done < requests and time.monotonic() < deadline:
        shift = done % len(order)
        for name in order[shift:] + order[:shift]:
            targets[name].post()
        done += 1
    return {name: server.meter.seconds_since(before[name]) / done for name, server in targets.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer blocks (a smoke run)")
    args = parser.parse_args()
    blocks, requests, seconds, warmup = (8, 30, 4.0, 10) if args.quick else (24, 40, 6.0, 20)
    with tempfile.TemporaryDirectory() as folder, OtlpReceiver() as receiver:
        with servers(Path(folder), receiver) as targets:
            for server in targets.values():
                for _ in range(warmup):
                    server.post()
            samples: dict[tuple[str, str], list[float]] = {(name, LABEL): [] for name in VARIANTS}
            started = time.monotonic()
            for _ in range(blocks):
                for name, per_request in block(targets, requests, seconds).items():
                    samples[(name, LABEL)].append(per_request)
            elapsed = time.monotonic() - started
        spans = len(receiver.spans)
    print(f"\n== server CPU per tools/call 'about' (jwt auth, SSE, stateless), {blocks} blocks, {elapsed:.0f} s ==")
    for name in VARIANTS:
        values = sorted(samples[(name, LABEL)])
        print(f"  {name:8s} {values[len(values) // 2] * 1000:6.2f} ms (median)")
    for name, goal in GOALS.items():
        ratio = paired(samples, name, "off", LABEL)  # type: ignore[arg-type]
        print(f"  {name}/off  {ratio_cell(ratio, goal)}   goal <= {goal}x")
    print(f"  spans received by the OTLP receiver: {spans}")


if __name__ == "__main__":
    main()
