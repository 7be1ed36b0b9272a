"""Two replicas behind one URL: shared Redis cache vs per-process caches, in one run.

One Authorization Server (oidc-provider, introspection), one redis-server, and two pairs of
``oscal-mcp`` replicas (stateless HTTP): one pair shares ``OSCAL_AUTH_CACHE_URL``, the other keeps
per-process caches. Each phase uses fresh tokens, every token is used on both replicas of the
pair (the load balancer's round robin), and the AS counts its introspection calls. Prints
requests/s, introspection calls per phase and the ratios. Run from the repository root::

    .venv/bin/python bench/bench_scale_out.py [--tokens 200] [--uses 4] [--concurrency 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_introspection import Phase
from tests.e2e.clients import INITIALIZE, MCP_HEADERS, bearer
from tests.e2e.conftest import IntrospectionAS
from tests.e2e.mcp_server import McpServerProcess
from tests.redis_server import RedisServer


async def drive(urls: list[str], tokens: list[str], uses: int, concurrency: int) -> tuple[int, float]:
    # Use n of every token goes to replica n % 2: each token meets both replicas.
    plan = [(token, urls[use % len(urls)]) for use in range(uses) for token in tokens]
    queue = iter(plan)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits, trust_env=False) as http:

        async def worker() -> None:
            for token, url in queue:
                response = await http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **bearer(token)})
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(plan), time.perf_counter() - started


def measure(name: str, pair: list[McpServerProcess], auth: IntrospectionAS, args: argparse.Namespace) -> Phase:
    tokens = [auth.token("oscal:read") for _ in range(args.tokens)]
    auth.server.reset_stats()
    requests, seconds = asyncio.run(drive([s.url for s in pair], tokens, args.uses, args.concurrency))
    return Phase(name, requests, seconds, auth.server.hits("introspection"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=200, help="fresh tokens per phase")
    parser.add_argument("--uses", type=int, default=4, help="requests per token, spread over both replicas")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    auth = IntrospectionAS.start(token_ttl=3600)
    redis = RedisServer().start()
    base = auth.server_env(OSCAL_MCP_LOG_LEVEL="WARNING", OSCAL_MCP_STATELESS_HTTP="true")
    cache = {"OSCAL_AUTH_CACHE_URL": redis.url, "OSCAL_AUTH_CACHE_SECRET": "bench-cache-secret-of-at-least-32-bytes"}
    shared = [McpServerProcess(env={**base, **cache}) for _ in range(2)]
    local = [McpServerProcess(env=base) for _ in range(2)]
    try:
        for server in shared + local:
            server.start()
        print(f"{args.tokens} fresh tokens x {args.uses} uses per phase over 2 replicas, "
              f"{args.concurrency} concurrent clients, {args.rounds} rounds")  # fmt: skip
        phases = []
        for round_number in range(args.rounds):
            order = [("shared redis", shared), ("per-process", local)]
            for name, pair in order if round_number % 2 == 0 else order[::-1]:
                phase = measure(name, pair, auth, args)
                phases.append(phase)
                print(f"  round {round_number + 1} {name:<13} {phase.rate:7.1f} req/s, "
                      f"introspection calls at the AS: {phase.introspections}")  # fmt: skip
        report(phases)
    finally:
        for server in shared + local:
            server.stop()
        redis.stop()
        auth.server.stop()


def report(phases: list[Phase]) -> None:
    shared = [p for p in phases if p.name == "shared redis"]
    local = [p for p in phases if p.name == "per-process"]
    rates = [s.rate / p.rate for s, p in zip(shared, local, strict=True)]
    calls = [s.introspections / p.introspections for s, p in zip(shared, local, strict=True)]
    print(f"req/s shared / per-process per round: {', '.join(f'{r:.2f}x' for r in rates)}; "
          f"median {statistics.median(rates):.2f}x")  # fmt: skip
    print(f"AS introspection calls shared / per-process: {', '.join(f'{c:.2f}x' for c in calls)}; "
          f"median {statistics.median(calls):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
