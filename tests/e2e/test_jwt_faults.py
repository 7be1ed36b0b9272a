"""The jwt backend when the Authorization Server misbehaves: no hang past the timeout, fail
closed, keep serving with cached keys, recover when the AS is healthy again."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from jose import jwt as jose_jwt

from tests.e2e.as_fixture import generate_keys
from tests.e2e.clients import bearer, post_initialize
from tests.e2e.stacks import JwtStack, jwt_stack

pytestmark = [pytest.mark.e2e]

TIMEOUT = 2  # OSCAL_AUTH_JWT_TIMEOUT_SECONDS of jwt_stack
BOUND = TIMEOUT + 6  # what "no hang" means here: the timeout, plus room for a loaded machine


@pytest.fixture
def stack() -> Iterator[JwtStack]:
    with jwt_stack() as deployment:
        yield deployment


def timed_status(stack: JwtStack, token: str) -> tuple[int, float]:
    started = time.monotonic()
    status = post_initialize(stack.server.url, bearer(token)).status_code
    return status, time.monotonic() - started


def rotated_token(stack: JwtStack, kid: str) -> str:
    """A token signed by a new key the server has not seen yet (forces a JWKS refresh)."""
    rotated = generate_keys((kid, f"es-{kid}"))
    stack.auth.restart(keys={"keys": rotated["keys"] + stack.auth.keys["keys"]})
    return stack.token()


@pytest.mark.parametrize("mode", ["500", "html", "garbage", "huge", "slow"])
def test_jwks_faults_fail_closed_and_recover(stack: JwtStack, mode: str) -> None:
    warm = stack.token()
    assert post_initialize(stack.server.url, bearer(warm)).status_code == 200  # keys cached
    fresh = rotated_token(stack, "rs-new")  # the server must fetch the JWKS to accept this one
    unseen_old_key_token = jose_jwt.encode(
        {**jose_jwt.get_unverified_claims(warm), "jti": "unseen"},
        next(k for k in stack.auth.keys["keys"] if k["kid"] == "rs-1"),
        algorithm="RS256",
        headers={"kid": "rs-1", "typ": "at+jwt"},
    )
    if mode == "slow":
        stack.auth.set_delay((TIMEOUT + 3) * 1000)
    else:
        stack.auth.set_failure(mode, endpoints=("jwks",))  # type: ignore[arg-type]
    time.sleep(1.1)  # past the min-refresh interval

    status, elapsed = timed_status(stack, fresh)
    assert status == 401 and elapsed < BOUND  # fail closed, within the timeout
    status, elapsed = timed_status(stack, unseen_old_key_token)
    assert status == 200 and elapsed < BOUND  # cached keys keep serving

    stack.auth.set_delay(0)
    stack.auth.set_failure("none")
    time.sleep(1.1)
    assert post_initialize(stack.server.url, bearer(fresh)).status_code == 200  # recovered
    logs = stack.server.logs()
    assert "JWKS refresh failed" in logs
    assert "serving the last good key set" in logs


def test_cold_start_against_a_failing_jwks_recovers_after_the_cool_down() -> None:
    with jwt_stack() as cold:  # a deployment whose first JWKS fetch fails
        cold.auth.set_failure("html", endpoints=("jwks",))
        token = cold.token()
        status, elapsed = timed_status(cold, token)
        assert status == 401 and elapsed < BOUND
        assert "reason=jwks_unavailable" in cold.server.logs()
        cold.auth.set_failure("none")
        time.sleep(1.1)  # the cool-down (min-refresh) of the stack
        assert post_initialize(cold.server.url, bearer(token)).status_code == 200
