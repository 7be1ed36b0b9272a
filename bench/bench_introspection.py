"""Requests per second through the server with introspection: warm cache vs cache disabled.

One Authorization Server (oidc-provider, as in the e2e tests) and two ``oscal-mcp`` processes
on 127.0.0.1 that differ only in ``OSCAL_AUTH_INTROSPECTION_CACHE_SECONDS`` (60 vs 0). Each
round drives both with the same load, in alternating order: ``--concurrency`` clients, each with
its own MCP session and its own bearer token (so single-flight never merges two clients' calls),
sending JSON-RPC ``ping`` requests until ``--requests`` have been answered. Prints requests/s
per phase, the introspection calls the AS counted during the pings, and the median ratio. Run from the repository root::

    .venv/bin/python bench/bench_introspection.py [--requests 2000] [--concurrency 8] [--rounds 3]

Needs Node.js >= 20 (the AS); the first run installs its npm packages.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.clients import INITIALIZE, MCP_HEADERS, bearer
from tests.e2e.conftest import IntrospectionAS
from tests.e2e.mcp_server import McpServerProcess

WARM_UP_REQUESTS = 50


@dataclass
class Phase:
    name: str
    requests: int
    seconds: float
    introspections: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def open_session(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, str]:
    response = await http.post(url, json=INITIALIZE, headers=headers)
    response.raise_for_status()
    session = {**headers, "mcp-session-id": response.headers["mcp-session-id"]}
    notified = await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
    notified.raise_for_status()
    return session


async def drive(url: str, tokens: list[str], total: int, ready: Callable[[], None] = lambda: None) -> float:
    """Seconds taken to get `total` pings answered by one session per token, all at once.

    `ready` is called once the sessions are open, just before the clock starts.
    """
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(timeout=30, limits=limits, trust_env=False) as http:
        sessions = [await open_session(http, url, {**MCP_HEADERS, **bearer(token)}) for token in tokens]
        remaining = total

        async def worker(session: dict[str, str]) -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                ping = {"jsonrpc": "2.0", "id": remaining, "method": "ping"}
                response = await http.post(url, json=ping, headers=session)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:200]}")

        ready()
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for session in sessions))
        return time.perf_counter() - started


def measure(name: str, server: McpServerProcess, auth: IntrospectionAS, tokens: list[str], requests: int) -> Phase:
    asyncio.run(drive(server.url, tokens, WARM_UP_REQUESTS))
    seconds = asyncio.run(drive(server.url, tokens, requests, ready=auth.server.reset_stats))
    return Phase(name, requests, seconds, auth.server.hits("introspection"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="pings per phase (default 2000)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent MCP sessions (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both phases (default 3)")
    args = parser.parse_args()

    auth = IntrospectionAS.start(token_ttl=3600)
    quiet = {"OSCAL_MCP_LOG_LEVEL": "WARNING"}  # no per-request access log in either server
    warm = McpServerProcess(env=auth.server_env(**quiet, OSCAL_AUTH_INTROSPECTION_CACHE_SECONDS="60"))
    uncached = McpServerProcess(env=auth.server_env(**quiet, OSCAL_AUTH_INTROSPECTION_CACHE_SECONDS="0"))
    try:
        warm.start()
        uncached.start()
        tokens = [auth.token("oscal:read") for _ in range(args.concurrency)]
        print(f"{args.requests} pings per phase, {args.concurrency} concurrent sessions, {args.rounds} rounds")
        phases: list[Phase] = []
        for round_number in range(args.rounds):
            order = [("warm cache", warm), ("cache off", uncached)]
            for name, server in order if round_number % 2 == 0 else order[::-1]:
                phase = measure(name, server, auth, tokens, args.requests)
                phases.append(phase)
                print(
                    f"  round {round_number + 1} {phase.name:<10} {phase.rate:8.1f} req/s "
                    f"({phase.seconds:.2f} s), introspection calls at the AS: {phase.introspections}"
                )
        report(phases)
    finally:
        uncached.stop()
        warm.stop()
        auth.server.stop()


def report(phases: list[Phase]) -> None:
    warm = [p for p in phases if p.name == "warm cache"]
    cold = [p for p in phases if p.name == "cache off"]
    # Each round measures both back to back: their ratio is steadier than a ratio of medians on a busy machine.
    ratios = [w.rate / c.rate for w, c in zip(warm, cold, strict=True)]
    print(
        f"median warm cache: {statistics.median(p.rate for p in warm):.1f} req/s, "
        f"introspection calls per phase {[p.introspections for p in warm]}"
    )
    print(
        f"median cache off:  {statistics.median(p.rate for p in cold):.1f} req/s, "
        f"introspection calls per phase {[p.introspections for p in cold]}"
    )
    print(
        f"ratio warm / off per round: {', '.join(f'{r:.2f}x' for r in ratios)}; median {statistics.median(ratios):.2f}x"
    )


if __name__ == "__main__":
    main()
