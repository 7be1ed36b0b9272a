"""Bounded load run against the real server with jwt auth and a real AS on loopback.

    .venv/bin/python bench/bench_load.py [--seconds 30] [--clients 50]

Clients send MCP initialize requests with a mix of tokens: valid (reused), valid (fresh each
time), expired-looking forgeries, garbage, missing scope, and no token. Reports the status counts
(anything but 200/400/401/403 is an error), latency percentiles and the server's resident memory
before and after (the caches are bounded, so it must stay flat). Not run in CI: it is a benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.auth.corpus.generate import SigningContext
from tests.e2e.clients import INITIALIZE, MCP_HEADERS
from tests.e2e.stacks import JwtStack, jwt_stack

EXPECTED = {200, 400, 401, 403}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def token_pool(stack: JwtStack) -> dict[str, list[str]]:
    ctx = SigningContext(stack.auth.issuer, stack.server.url, stack.auth.keys)
    now = int(time.time())
    return {
        "valid_reused": [stack.token() for _ in range(5)],
        "valid_fresh": [ctx.sign(ctx.claims(jti=f"load-{n}")) for n in range(2000)],
        "expired": [ctx.sign(ctx.claims(exp=now - 100, jti=f"old-{n}")) for n in range(50)],
        "wrong_audience": [ctx.sign(ctx.claims(aud="https://elsewhere.example")) for _ in range(20)],
        "missing_scope": [ctx.sign(ctx.claims(scope="profile"))],
        "garbage": [f"garbage.{n}.token" for n in range(100)],
        "none": [""],
    }


async def client(url: str, pool: dict[str, list[str]], deadline: float, results: list[tuple[str, int, float]]) -> None:
    kinds = list(pool)
    weights = [40, 20, 10, 5, 5, 10, 10]
    fresh = iter(pool["valid_fresh"] * 50)
    async with httpx.AsyncClient(timeout=30) as http:
        while time.monotonic() < deadline:
            kind = random.choices(kinds, weights)[0]
            token = next(fresh) if kind == "valid_fresh" else random.choice(pool[kind])
            headers = dict(MCP_HEADERS)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            started = time.perf_counter()
            try:
                status = (await http.post(url, json=INITIALIZE, headers=headers)).status_code
            except httpx.HTTPError:
                status = 0
            results.append((kind, status, time.perf_counter() - started))


async def run(seconds: float, clients: int, stateless: str) -> None:
    # Every request opens a session, all of one principal: the per-principal quota (100) would turn
    # this throughput run into the lock-out test of tests/e2e/test_session_quota.py.
    quota = {"OSCAL_MCP_MAX_SESSIONS_PER_PRINCIPAL": "10000"}
    with jwt_stack({"OSCAL_MCP_LOG_LEVEL": "WARNING", "OSCAL_MCP_STATELESS_HTTP": stateless, **quota}) as stack:
        pool = token_pool(stack)
        pid = stack.server.process.pid if stack.server.process else 0
        await client(stack.server.url, pool, time.monotonic() + 2, [])  # warm-up
        rss_before = rss_kib(pid)
        results: list[tuple[str, int, float]] = []
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(client(stack.server.url, pool, deadline, results) for _ in range(clients)))
        rss_after = rss_kib(pid)
    report(results, seconds, clients, rss_before, rss_after)


def report(results: list[tuple[str, int, float]], seconds: float, clients: int, before: int, after: int) -> None:
    latencies = sorted(r[2] for r in results)
    statuses = Counter(r[1] for r in results)
    by_kind = Counter((r[0], r[1]) for r in results)
    errors = sum(n for status, n in statuses.items() if status not in EXPECTED)
    wrongly_accepted = sum(n for (kind, status), n in by_kind.items() if status == 200 and not kind.startswith("valid"))

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print(f"load: {clients} clients for {seconds:g} s on loopback, {len(results)} requests "
          f"({len(results) / seconds:.0f} req/s)")  # fmt: skip
    print("status counts:", dict(sorted(statuses.items())))
    print("per kind:", {f"{k}->{s}": n for (k, s), n in sorted(by_kind.items())})
    print(f"errors (not 200/400/401/403): {errors}; accepted wrongly: {wrongly_accepted}")
    print(f"latency ms: p50 {pct(0.50):.1f}  p90 {pct(0.90):.1f}  p99 {pct(0.99):.1f}  "
          f"max {latencies[-1] * 1000:.1f}  mean {statistics.fmean(latencies) * 1000:.1f}")  # fmt: skip
    print(f"server RSS: {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after "
          f"({(after - before) / 1024:+.1f} MiB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--stateless", action="store_true", help="OSCAL_MCP_STATELESS_HTTP=true")
    args = parser.parse_args()
    asyncio.run(run(args.seconds, args.clients, "true" if args.stateless else "false"))


if __name__ == "__main__":
    main()
