"""Readiness follows the real parts it depends on: the Authorization Server's keys (oidc-provider)
past their staleness bound, and Redis (redis-server); ready again once they are back."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.e2e.clients import bearer, post_initialize
from tests.e2e.stacks import jwt_stack
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.e2e]

CACHE_SECRET = "readiness-cache-secret-of-32-bytes-or-more"
MAX_STALE_SECONDS = 3
DEADLINE_SECONDS = 40  # bound of each wait; what is awaited happens within a few seconds
POD_HOST = {"host": "10.42.0.17:8000"}


def readiness(base_url: str) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(f"{base_url}/readyz", headers=POD_HOST, timeout=15)
    return answer.status_code, answer.json()


def wait_for(base_url: str, status: int) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    seen: tuple[int, dict[str, Any]] = (0, {})
    while time.monotonic() < deadline:
        seen = readiness(base_url)
        if seen[0] == status:
            return seen[1]
        time.sleep(0.3)
    raise AssertionError(f"/readyz never answered {status} within {DEADLINE_SECONDS} s; last: {seen}")


def test_readyz_turns_unready_when_the_as_is_down_past_the_staleness_bound_or_redis_stops() -> None:
    with RedisServer() as redis:
        env = {
            "OSCAL_AUTH_CACHE_URL": redis.url,
            "OSCAL_AUTH_CACHE_SECRET": CACHE_SECRET,
            "OSCAL_AUTH_JWT_JWKS_CACHE_SECONDS": "1",
            "OSCAL_AUTH_JWT_JWKS_MAX_STALE_SECONDS": str(MAX_STALE_SECONDS),
        }
        with jwt_stack(env) as stack:
            base = stack.server.base_url
            assert post_initialize(stack.server.url, bearer(stack.token())).status_code == 200
            assert httpx.get(f"{base}/healthz", headers=POD_HOST, timeout=10).status_code == 200
            refused = post_initialize(stack.server.url, {**bearer(stack.token()), **POD_HOST})
            assert refused.status_code == 421  # the MCP path keeps its DNS-rebinding guard
            all_ok = {"content": "ok", "verifier": "ok", "redis": "ok"}
            assert readiness(base) == (200, {"status": "ready", "checks": all_ok})

            stack.auth.stop()
            unready = wait_for(base, 503)
            assert unready["checks"]["verifier"] == "keys_unavailable"
            assert unready["checks"]["redis"] == "ok" and unready["status"] == "unready"
            stack.auth.restart()
            assert wait_for(base, 200)["checks"]["verifier"] == "ok"

            redis.stop()
            unready = wait_for(base, 503)
            assert unready["checks"] == {"content": "ok", "verifier": "ok", "redis": "unreachable"}
            redis.start()
            assert wait_for(base, 200)["checks"]["redis"] == "ok"
            assert CACHE_SECRET not in stack.server.logs() and redis.url not in str(unready)
