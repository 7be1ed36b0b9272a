"""DPoP benchmark (issue #15): a DPoP request's extra server CPU over a Bearer request.

    .venv/bin/python bench/bench_dpop.py [--quick]

The Bearer side sends one repeat token (the jwt verifier's result cache is warm), the DPoP side
the same kind of token bound to the client's key (``cnf.jkt``), also repeated, with a fresh proof
per request, as RFC 9449 requires. So the difference is the proof: parsing, one key
construction, one signature verification, the hashes, the binding check and a replay-cache write.

1. The auth layer alone: `protect` around an endpoint that answers 200 at once, in-process ASGI.
   Bearer vs DPoP with ES256 proofs, and vs DPoP with RS256 proofs.
2. A whole ``tools/call`` of ``about`` through the real app of ``build_http_app`` (stateless HTTP,
   in-process ASGI): Bearer vs DPoP (ES256).

Proofs are signed before each block, outside the measured time (the client's work, not the
server's). Every comparison alternates in paired blocks (A/B, then B/A, ...) in one run, counting
CPU time (``time.process_time``); a ratio is the median of the per-pair ratios, with its
inter-quartile range, and the extra CPU the median of the per-pair differences. Not collected
by pytest; no network.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from starlette.applications import Starlette  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402

from bench.bench_jwt import (  # noqa: E402
    IN_PROCESS_URL,
    AsgiPoster,
    Row,
    app_values,
    check_answer,
    median_ratio,
    print_section,
)
from oscal_mcp.config import load_settings  # noqa: E402
from oscal_mcp.http_app import build_http_app  # noqa: E402
from oscal_mcp_auth import DPoPPolicy, ProtectedResource, protect  # noqa: E402
from oscal_mcp_auth.backends.jwt import JwtSettings, JwtVerifier  # noqa: E402
from oscal_mcp_auth.hooks import create_plugin_manager  # noqa: E402
from oscal_mcp_auth.jwks import KeySet  # noqa: E402
from oscal_mcp_auth.replay import ReplayCache  # noqa: E402
from oscal_mcp_auth.settings import AuthConfig  # noqa: E402
from oscal_mcp_auth.verifier import VerificationPipeline  # noqa: E402
from tests.auth.keys import ISSUER, mint, public_keys  # noqa: E402
from tests.e2e.dpop_client import DPoPKey  # noqa: E402

TOKEN_LIFETIME = 3600
LAYER_URL = "http://127.0.0.1:8000/mcp"


@dataclass(frozen=True)
class Plan:
    pairs: int  # paired blocks per comparison
    layer_calls: int  # requests per block, part 1
    app_calls: int  # requests per block, part 2
    warmup: int


FULL = Plan(60, 200, 40, 50)
QUICK = Plan(12, 100, 15, 20)


class Poster(AsgiPoster):
    """`AsgiPoster` whose ``Authorization`` and ``DPoP`` headers change per request."""

    def __init__(self, app: ASGIApp, url: str) -> None:
        super().__init__(app, url, None)
        self.base_headers = list(self.scope_template["headers"])

    async def post_as(self, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        self.scope_template["headers"] = [*self.base_headers, *headers]
        return await self.post()


@dataclass(frozen=True)
class Side:
    """One side of a comparison: how to make a block's request headers (outside the timing)."""

    label: str
    headers: Callable[[int], list[list[tuple[bytes, bytes]]]]


def bearer_side(token: str) -> Side:
    header = [(b"authorization", f"Bearer {token}".encode())]
    return Side("Bearer, repeat token", lambda count: [header] * count)


def dpop_side(token: str, key: DPoPKey, url: str) -> Side:
    authorization = (b"authorization", f"DPoP {token}".encode())

    def headers(count: int) -> list[list[tuple[bytes, bytes]]]:
        proofs = (key.proof("POST", url, access_token=token) for _ in range(count))
        return [[authorization, (b"dpop", proof.encode())] for proof in proofs]

    return Side(f"DPoP {key.alg}, repeat bound token, fresh proof", headers)


def tokens_for(url: str, key: DPoPKey) -> tuple[str, str]:
    exp = int(time.time()) + TOKEN_LIFETIME
    bearer = mint("rs-1", "RS256", aud=url, jti="bench-bearer", exp=exp)
    bound = mint("rs-1", "RS256", aud=url, jti=f"bench-dpop-{key.alg}", exp=exp, cnf={"jkt": key.thumbprint})
    return bearer, bound


async def compare(
    poster: Poster, base: Side, other: Side, calls: int, plan: Plan, check: Callable[[int, bytes], None]
) -> list[float]:
    """Per-request CPU of `base` and `other` in alternating paired blocks; returns [base..., other...]."""
    for side in (base, other):
        for headers in side.headers(plan.warmup):
            check(*await poster.post_as(headers))
    per_call: dict[str, list[float]] = {base.label: [], other.label: []}
    for pair in range(plan.pairs):
        for side in (base, other) if pair % 2 == 0 else (other, base):
            block = side.headers(calls)
            gc.collect()
            started = time.process_time()
            for headers in block:
                status, _ = await poster.post_as(headers)
                if status != 200:
                    raise RuntimeError(f"HTTP {status} ({side.label})")
            per_call[side.label].append((time.process_time() - started) / calls)
    return [*per_call[base.label], *per_call[other.label]]


def rows_for(base: Side, other: Side, timings: list[float]) -> list[Row]:
    half = len(timings) // 2
    base_times, other_times = timings[:half], timings[half:]
    ratio, spread = median_ratio(other_times, base_times)
    extra = statistics.median(o - b for o, b in zip(other_times, base_times, strict=True))
    return [
        Row(f"{base.label}", f"{statistics.median(base_times) * 1e6:>9,.0f} µs"),
        Row(f"{other.label} ({extra * 1e6:+,.0f} µs)", f"{statistics.median(other_times) * 1e6:>9,.0f} µs", ratio,
            spread),
    ]  # fmt: skip


# --- 1. the auth layer alone -----------------------------------------------------------------------------


async def answer_ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def layer_app() -> Starlette:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_ISSUER_URL": ISSUER, "OSCAL_AUTH_RESOURCE_SERVER_URL": LAYER_URL})
    keys = KeySet.from_jwks(public_keys(), ("RS256", "ES256"))
    pipeline = VerificationPipeline(
        JwtVerifier(config, JwtSettings(), keys), config, create_plugin_manager(load_entry_points=False), name="jwt"
    )
    resource = ProtectedResource(LAYER_URL, dpop=DPoPPolicy(algorithms=("ES256", "RS256")))
    return Starlette(routes=protect(answer_ok, pipeline, resource, replay=ReplayCache()))


def expect_200(status: int, body: bytes) -> None:
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {body[:300]!r}")


async def bench_layer(plan: Plan) -> list[Row]:
    poster = Poster(layer_app(), LAYER_URL)
    rows: list[Row] = []
    for alg in ("ES256", "RS256"):
        key = DPoPKey.generate(alg)
        bearer, bound = tokens_for(LAYER_URL, key)
        base, other = bearer_side(bearer), dpop_side(bound, key, LAYER_URL)
        rows += rows_for(base, other, await compare(poster, base, other, plan.layer_calls, plan, expect_200))
    return rows


# --- 2. a whole tools/call -------------------------------------------------------------------------------


async def bench_app(plan: Plan) -> list[Row]:
    app = build_http_app(load_settings(app_values(True, IN_PROCESS_URL)))
    key = DPoPKey.generate("ES256")
    bearer, bound = tokens_for(IN_PROCESS_URL, key)
    base, other = bearer_side(bearer), dpop_side(bound, key, IN_PROCESS_URL)
    async with app.router.lifespan_context(app):
        poster = Poster(app, IN_PROCESS_URL)

        def check(status: int, body: bytes) -> None:
            check_answer(status, body, auth=True)

        timings = await compare(poster, base, other, plan.app_calls, plan, check)
    return rows_for(base, other, timings)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer blocks (a smoke run, wider spread)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    print(
        f"oscal-mcp DPoP benchmark (issue #15), {'quick' if args.quick else 'full'} run; "
        f"os.cpu_count()={os.cpu_count()}, Python {sys.version.split()[0]}"
    )
    print("Ratios are DPoP / Bearer, measured side by side in paired blocks (CPU time) in this one run.")
    print_section(
        f"1. the auth layer alone, endpoint answering at once ({plan.pairs} pairs x {plan.layer_calls} requests)",
        "CPU/request",
        await bench_layer(plan),
    )
    print_section(
        f"2. tools/call 'about' through build_http_app, stateless ({plan.pairs} pairs x {plan.app_calls} calls)",
        "CPU/call",
        await bench_app(plan),
    )
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
