"""JWT verification benchmark (issue #8): token throughput, server CPU per call, HTTP throughput.

    .venv/bin/python bench/bench_jwt.py [--quick] [--profile]

1. Tokens verified per second, RS256 and ES256, against a key pre-built by ``jose.jwk.construct``:
   (a) bare ``jose.jwt.decode`` (the baseline), (b) ``JwtVerifier.verify_token`` on first use of
   each token (keys warm, result cache cold), (c) the same token again (result cache warm),
   (d) the full ``VerificationPipeline`` (hooks + audit) on a repeat token.
   Goals: (b) >= 0.8x (a); (c) and (d) >= 10x (a).
2. Server CPU per ``tools/call`` of ``about``, jwt auth vs no auth: the real Starlette app of
   ``build_http_app`` driven in-process through ASGI (stateless HTTP), ``time.process_time()``.
   Goal: auth adds <= 10% CPU per call with a repeat token.
3. HTTP ``tools/call`` throughput, jwt auth vs no auth: two real server processes on loopback,
   a few concurrent httpx clients, a fixed number of requests. Goal: >= 0.9x.

The machine is shared and noisy, so every comparison is made side by side in one run: measurements
alternate in small paired blocks (A/B, B/A, ...) and the figures are medians of those pairs; a
ratio is the median of the per-pair ratios. Only the ratios are meant to be compared with goals.
Part 1 and 2 use CPU time (time.process_time), which is immune to being descheduled; part 3 is
wall clock by nature. No network except loopback; no Authorization Server is needed (tokens are
minted with the test keys of ``tests/auth/keys.py``). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from jose import jwk  # noqa: E402
from jose import jwt as jose_jwt  # noqa: E402
from starlette.types import ASGIApp  # noqa: E402

from oscal_mcp.config import load_settings  # noqa: E402
from oscal_mcp.http_app import build_http_app  # noqa: E402
from oscal_mcp_auth.backends.jwt import JwtSettings, JwtVerifier  # noqa: E402
from oscal_mcp_auth.config import AuthConfig  # noqa: E402
from oscal_mcp_auth.hooks import create_plugin_manager  # noqa: E402
from oscal_mcp_auth.jwks import KeySet  # noqa: E402
from oscal_mcp_auth.verifier import VerificationPipeline  # noqa: E402
from tests.auth.keys import ISSUER, RESOURCE, mint, public_keys  # noqa: E402
from tests.e2e.as_fixture import public_pem  # noqa: E402
from tests.e2e.mcp_server import McpServerProcess  # noqa: E402

ALGORITHMS = (("RS256", "rs-1"), ("ES256", "es-1"))
TOKEN_LIFETIME = 3600  # seconds: far beyond the run, so no token expires mid-benchmark
IN_PROCESS_URL = "http://127.0.0.1:8000/mcp"
TOOLS_CALL = json.dumps(
    {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "about", "arguments": {}}}
).encode()
MCP_HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
}
AUTH_FUNCTIONS = r"oscal_mcp_auth|mcp/server/auth|middleware/authentication|tools/about"
SERVER_ENV = {"OSCAL_MCP_STATELESS_HTTP": "true", "OSCAL_MCP_LOG_LEVEL": "WARNING"}


@dataclass(frozen=True)
class Plan:
    """How much to measure: the full run takes about 2 minutes on 2 cores, --quick about 30 s."""

    verify_rounds: int  # part 1: a fresh JwtVerifier (cold result cache) per round
    verify_blocks: int  # part 1: paired blocks per round
    verify_block_tokens: int  # part 1: distinct tokens per block (first use / bare decode)
    repeat_block_calls: int  # part 1: calls per block with one repeated token
    cpu_pairs: int  # part 2: paired blocks (no auth / auth)
    cpu_block_calls: int  # part 2: tools/call per block
    cpu_warmup: int
    http_pairs: int  # part 3: paired rounds (no auth / auth)
    http_requests: int  # part 3: requests per round
    http_concurrency: int
    http_warmup: int


FULL = Plan(14, 12, 50, 500, 60, 10, 40, 9, 300, 4, 40)
QUICK = Plan(4, 8, 30, 300, 16, 8, 20, 5, 150, 4, 20)


@dataclass
class Row:
    label: str
    value: str
    ratio: float | None = None
    spread: tuple[float, float] | None = None
    goal: str = ""
    met: bool | None = None


def median_ratio(numerators: list[float], denominators: list[float]) -> tuple[float, tuple[float, float]]:
    """The median of the paired ratios, and their inter-quartile range."""
    ratios = sorted(n / d for n, d in zip(numerators, denominators, strict=True))
    if len(ratios) < 4:
        return statistics.median(ratios), (ratios[0], ratios[-1])
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), (q1, q3)


# --- 1. token verification -------------------------------------------------------------------------------


def auth_config(resource: str) -> AuthConfig:
    return AuthConfig.from_mapping({"OSCAL_AUTH_ISSUER_URL": ISSUER, "OSCAL_AUTH_RESOURCE_SERVER_URL": resource})


def new_verifier(keys: KeySet) -> JwtVerifier:
    return JwtVerifier(auth_config(RESOURCE), JwtSettings(), keys)


def new_pipeline(keys: KeySet) -> VerificationPipeline:
    config = auth_config(RESOURCE)
    return VerificationPipeline(
        JwtVerifier(config, JwtSettings(), keys), config, create_plugin_manager(load_entry_points=False), name="jwt"
    )


async def bench_algorithm(alg: str, kid: str, keys: KeySet, plan: Plan) -> list[Row]:
    """Per-token CPU time of the four paths, measured in interleaved blocks."""
    public = next(k for k in public_keys()["keys"] if k["kid"] == kid)
    bare_key = jwk.construct(public, alg)
    per_round = plan.verify_blocks * plan.verify_block_tokens
    exp = int(time.time()) + TOKEN_LIFETIME
    tokens = [mint(kid, alg, jti=f"bench-{alg}-{n}", exp=exp) for n in range(per_round)]
    repeat_token = mint(kid, alg, jti=f"bench-{alg}-repeat", exp=exp)

    def bare(batch: list[str]) -> None:
        for token in batch:
            jose_jwt.decode(token, bare_key, algorithms=[alg], audience=RESOURCE, issuer=ISSUER)

    async def verify_all(verifier: JwtVerifier | VerificationPipeline, batch: list[str]) -> None:
        for token in batch:
            if await verifier.verify_token(token) is None:
                raise RuntimeError(f"{alg} token rejected by {type(verifier).__name__}")

    async def repeat(verifier: JwtVerifier | VerificationPipeline) -> None:
        for _ in range(plan.repeat_block_calls):
            await verifier.verify_token(repeat_token)

    times: dict[str, list[float]] = {"a": [], "b": [], "c": [], "d": []}
    warm = new_verifier(keys)  # for the repeat paths; its cache is warmed by the first call
    pipeline = new_pipeline(keys)
    await verify_all(warm, [repeat_token])
    await verify_all(pipeline, [repeat_token])
    bare(tokens[:20])
    await verify_all(new_verifier(keys), tokens[:20])

    async def measure(path: str, batch: list[str], cold: JwtVerifier) -> float:
        started = time.process_time()
        if path == "a":
            bare(batch)
        elif path == "b":
            await verify_all(cold, batch)
        else:
            await repeat(warm if path == "c" else pipeline)
        return time.process_time() - started

    for round_ in range(plan.verify_rounds):
        cold = new_verifier(keys)  # result cache cold, key objects warm (built once in the KeySet)
        gc.collect()
        for block in range(plan.verify_blocks):
            batch = tokens[block * plan.verify_block_tokens : (block + 1) * plan.verify_block_tokens]
            order = "abcd" if (round_ + block) % 2 == 0 else "dcba"
            for path in order:
                count = plan.verify_block_tokens if path in "ab" else plan.repeat_block_calls
                times[path].append(await measure(path, batch, cold) / count)
    rows = [Row(f"{alg}  (a) bare jose.jwt.decode, pre-built key", f"{1 / statistics.median(times['a']):>9,.0f}", 1.0)]
    labels = {
        "b": ("(b) JwtVerifier, first use (cache cold)", ">= 0.8x", 0.8),
        "c": ("(c) JwtVerifier, repeat (cache warm)", ">= 10x", 10.0),
        "d": ("(d) VerificationPipeline, repeat", ">= 10x", 10.0),
    }
    for name, (label, goal, threshold) in labels.items():
        ratio, spread = median_ratio(times["a"], times[name])
        rows.append(
            Row(
                f"{alg}  {label}",
                f"{1 / statistics.median(times[name]):>9,.0f}",
                ratio,
                spread,
                goal,
                ratio >= threshold,
            )
        )
    return rows


# --- 2. server CPU per tools/call, in-process ------------------------------------------------------------


def app_values(auth: bool, url: str) -> dict[str, str]:
    host_port = url.split("/")[2]
    values = {
        "OSCAL_MCP_TRANSPORT": "streamable-http",
        "OSCAL_MCP_HOST": "127.0.0.1",
        "OSCAL_MCP_PORT": host_port.rsplit(":", 1)[1],
        **SERVER_ENV,
    }
    if auth:
        values.update(jwt_server_env())
    return values


def jwt_server_env() -> dict[str, str]:
    rs_public = next(k for k in public_keys()["keys"] if k["kid"] == "rs-1")
    return {
        "OSCAL_AUTH_ISSUER_URL": ISSUER,
        "OSCAL_AUTH_JWT_PUBLIC_KEY": public_pem(rs_public),
        "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
    }


def bearer_for(url: str) -> str:
    return mint("rs-1", "RS256", aud=url, jti="bench-http", exp=int(time.time()) + TOKEN_LIFETIME)


class AsgiPoster:
    """POSTs to an ASGI app with as little client-side work as possible (no HTTP client library)."""

    def __init__(self, app: ASGIApp, url: str, token: str | None) -> None:
        self.app = app
        host_port = url.split("/")[2]
        self.path = "/" + url.split("/", 3)[3]
        headers = {**MCP_HEADERS, "host": host_port, "content-length": str(len(TOOLS_CALL))}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.scope_template: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", int(host_port.rsplit(":", 1)[1])),
        }

    async def post(self) -> tuple[int, bytes]:
        done = asyncio.Event()
        body_sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": TOOLS_CALL, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        await self.app(dict(self.scope_template), receive, send)  # type: ignore[arg-type]
        done.set()
        return status, b"".join(chunks)


def check_answer(status: int, body: bytes, auth: bool) -> None:
    if status != 200 or b'"isError":false' not in body:
        raise RuntimeError(f"tools/call failed (auth={auth}): HTTP {status} {body[:300]!r}")
    if auth and b'"client_id":"client-1"' not in body:
        raise RuntimeError(f"tools/call did not see the caller: {body[:300]!r}")


async def bench_server_cpu(plan: Plan) -> list[Row]:
    async with contextlib.AsyncExitStack() as stack:
        posters: dict[bool, AsgiPoster] = {}
        for auth in (False, True):
            app = build_http_app(load_settings(app_values(auth, IN_PROCESS_URL)))
            await stack.enter_async_context(app.router.lifespan_context(app))
            posters[auth] = AsgiPoster(app, IN_PROCESS_URL, bearer_for(IN_PROCESS_URL) if auth else None)
        for auth, poster in posters.items():
            for _ in range(plan.cpu_warmup):
                check_answer(*await poster.post(), auth)
        per_call: dict[bool, list[float]] = {False: [], True: []}
        for pair in range(plan.cpu_pairs):
            order = (False, True) if pair % 2 == 0 else (True, False)
            for auth in order:
                poster = posters[auth]
                started = time.process_time()
                for _ in range(plan.cpu_block_calls):
                    status, _ = await poster.post()
                    if status != 200:
                        raise RuntimeError(f"HTTP {status} (auth={auth})")
                per_call[auth].append((time.process_time() - started) / plan.cpu_block_calls)
    plain, jwt = statistics.median(per_call[False]), statistics.median(per_call[True])
    ratio, spread = median_ratio(per_call[True], per_call[False])
    added = statistics.median(a - p for a, p in zip(per_call[True], per_call[False], strict=True))
    return [
        Row("no auth: CPU per tools/call", f"{plain * 1e6:>9,.0f} µs"),
        Row(
            f"jwt auth: CPU per tools/call ({added * 1e6:+,.0f} µs paired)",
            f"{jwt * 1e6:>9,.0f} µs",
            ratio,
            spread,
            "<= 1.10x",
            ratio <= 1.10,
        ),
    ]


# --- 3. HTTP throughput, real server processes -----------------------------------------------------------


@contextlib.contextmanager
def servers() -> Iterator[dict[bool, McpServerProcess]]:
    with tempfile.TemporaryDirectory() as workdir:  # no .env file of the checkout leaks in
        plain = McpServerProcess(env=SERVER_ENV, cwd=Path(workdir))
        secured = McpServerProcess(env=SERVER_ENV, cwd=Path(workdir))
        secured.env.update(jwt_server_env())
        try:
            plain.start()
            secured.start()
            yield {False: plain, True: secured}
        finally:
            plain.stop()
            secured.stop()


async def hammer(client: httpx.AsyncClient, url: str, headers: dict[str, str], total: int, concurrency: int) -> float:
    """Send `total` tools/call requests with `concurrency` workers; returns the wall-clock seconds."""
    remaining = total
    failures: list[str] = []

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            response = await client.post(url, content=TOOLS_CALL, headers=headers)
            if response.status_code != 200 or b'"isError":false' not in response.content:
                failures.append(f"HTTP {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} of {total} requests to {url} failed; first: {failures[0]}")
    return elapsed


async def bench_http(plan: Plan) -> list[Row]:
    with servers() as procs:
        async with contextlib.AsyncExitStack() as stack:
            targets: dict[bool, tuple[httpx.AsyncClient, str, dict[str, str]]] = {}
            for auth, proc in procs.items():
                client = await stack.enter_async_context(
                    httpx.AsyncClient(limits=httpx.Limits(max_connections=plan.http_concurrency), timeout=60)
                )
                headers = dict(MCP_HEADERS)
                if auth:
                    headers["authorization"] = f"Bearer {bearer_for(proc.url)}"
                targets[auth] = (client, proc.url, headers)
            for client, url, headers in targets.values():
                await hammer(client, url, headers, plan.http_warmup, plan.http_concurrency)
            rates: dict[bool, list[float]] = {False: [], True: []}
            for pair in range(plan.http_pairs):
                order = (False, True) if pair % 2 == 0 else (True, False)
                for auth in order:
                    client, url, headers = targets[auth]
                    seconds = await hammer(client, url, headers, plan.http_requests, plan.http_concurrency)
                    rates[auth].append(plan.http_requests / seconds)
    ratio, spread = median_ratio(rates[True], rates[False])
    return [
        Row("no auth: tools/call throughput", f"{statistics.median(rates[False]):>9,.0f} req/s"),
        Row(
            "jwt auth: tools/call throughput",
            f"{statistics.median(rates[True]):>9,.0f} req/s",
            ratio,
            spread,
            ">= 0.9x",
            ratio >= 0.9,
        ),
    ]


# --- profiling (--profile) -------------------------------------------------------------------------------


async def profile_paths() -> None:
    keys = KeySet.from_jwks(public_keys(), ("RS256", "ES256"))
    exp = int(time.time()) + TOKEN_LIFETIME
    tokens = [mint("es-1", "ES256", jti=f"profile-{n}", exp=exp) for n in range(1000)]
    cold, pipeline = new_verifier(keys), new_pipeline(keys)

    async def first_use() -> None:
        for token in tokens:
            await cold.verify_token(token)

    async def repeat() -> None:
        for _ in range(20_000):
            await pipeline.verify_token(tokens[0])

    app = build_http_app(load_settings(app_values(True, IN_PROCESS_URL)))
    async with app.router.lifespan_context(app):
        poster = AsgiPoster(app, IN_PROCESS_URL, bearer_for(IN_PROCESS_URL))
        for _ in range(20):
            await poster.post()

        async def calls() -> None:
            for _ in range(300):
                await poster.post()

        for title, work in (
            ("JwtVerifier first use, 1000 ES256 tokens", first_use),
            ("VerificationPipeline repeat use, 20000 calls", repeat),
            ("jwt-auth app, 300 in-process tools/call", calls),
        ):
            profiler = cProfile.Profile()
            profiler.enable()
            await work()
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            if work is calls:  # the whole request path is large: show the auth pieces, by cumulative time
                stats.sort_stats("cumulative").print_stats(AUTH_FUNCTIONS, 15)
            else:
                stats.sort_stats("tottime").print_stats(15)
            lines = out.getvalue().splitlines()
            first = next(n for n, line in enumerate(lines) if "ncalls" in line)
            print(f"\n--- profile: {title} ---")
            print("\n".join(line for line in lines[first:] if line.strip()))


# --- report ----------------------------------------------------------------------------------------------


def print_section(title: str, unit: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    print(f"  {'':52s} {unit:>15s} {'ratio':>7s} {'(IQR)':>13s}  {'goal':8s} met")
    for row in rows:
        ratio = f"{row.ratio:6.2f}x" if row.ratio is not None else ""
        spread = f"({row.spread[0]:.2f}-{row.spread[1]:.2f})" if row.spread else ""
        met = "" if row.met is None else ("yes" if row.met else "NO")
        print(f"  {row.label:52s} {row.value:>15s} {ratio:>7s} {spread:>13s}  {row.goal:8s} {met}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about 30 s instead of 2 min)")
    parser.add_argument("--profile", action="store_true", help="also print cProfile summaries of the hot paths")
    parser.add_argument("--skip-http", action="store_true", help="skip part 3 (real server processes)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    print(
        f"oscal-mcp jwt benchmark (issue #8), {'quick' if args.quick else 'full'} run; "
        f"os.cpu_count()={os.cpu_count()}, Python {sys.version.split()[0]}"
    )
    print("All figures come from this one run on a shared, noisy machine: compare the ratios (measured side by")
    print("side, alternating A/B in paired blocks, median of the pairs), not the absolute numbers.")

    keys = KeySet.from_jwks(public_keys(), ("RS256", "ES256"))  # key objects built once, as per JWKS fetch
    rows: list[Row] = []
    for alg, kid in ALGORITHMS:
        rows += await bench_algorithm(alg, kid, keys, plan)
    print_section(
        f"1. token verification, per core (CPU time; {plan.verify_rounds} rounds x {plan.verify_blocks} paired "
        f"blocks; ratio vs (a))",
        "tokens/s",
        rows,
    )
    print_section(
        f"2. server CPU per tools/call 'about', in-process ASGI, stateless HTTP, repeat token "
        f"({plan.cpu_pairs} pairs x {plan.cpu_block_calls} calls; ratio auth/no auth)",
        "CPU/call",
        await bench_server_cpu(plan),
    )
    if not args.skip_http:
        print_section(
            f"3. HTTP tools/call throughput, 2 server processes on loopback, {plan.http_concurrency} concurrent "
            f"clients ({plan.http_pairs} pairs x {plan.http_requests} requests; ratio auth/no auth)",
            "throughput",
            await bench_http(plan),
        )
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    if args.profile:
        await profile_paths()


if __name__ == "__main__":
    asyncio.run(main())
