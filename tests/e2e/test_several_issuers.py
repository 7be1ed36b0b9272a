"""Several issuers (jwt verifier) against real Authorization Servers and the real server.

Reads like the README: start two Authorization Servers, start the server with
``OSCAL_AUTH_ISSUER_URL=<first>,<second>``, connect the SDK's client with a token from either.
Both servers sign with the same kids (``rs-1``) under different keys, so only the issuer, never
the kid, can tell which keys verify a token.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from jose import jwt as jose_jwt

from tests.e2e.as_fixture import AuthorizationServer, Client, Resource
from tests.e2e.clients import bearer, challenge_params, mcp_client, post_initialize
from tests.e2e.issuer_stacks import (
    FETCH_TIMEOUT_SECONDS,
    MIN_REFRESH_SECONDS,
    RESOURCE,
    TwoIssuers,
    server_trusting,
    token_from,
    two_issuers,
)
from tests.e2e.mcp_server import McpServerProcess, clean_environment
from tests.e2e.stacks import CLIENT_ID, CLIENT_SECRET

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def issuers() -> Iterator[TwoIssuers]:
    """Two Authorization Servers; a test that stops one restarts it before it ends."""
    with two_issuers() as started:
        yield started


@pytest.fixture(scope="module")
def server(issuers: TwoIssuers) -> Iterator[McpServerProcess]:
    """The server trusting both, started once for the tests that need no fresh key caches."""
    with server_trusting(issuers.issuer_list) as running:
        yield running


def assert_refused(server: McpServerProcess, token: str, reason: str) -> None:
    response = post_initialize(server.url, bearer(token))
    assert response.status_code == 401, response.text
    assert challenge_params(response)["error"] == "invalid_token"
    assert f"reason={reason} " in server.logs()


def status_of(server: McpServerProcess, token: str) -> int:
    return post_initialize(server.url, bearer(token)).status_code


def b64json(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def signed_by(auth: AuthorizationServer, claims: dict[str, Any], kid: str = "rs-1") -> str:
    """A JWT carrying `claims`, signed with one of `auth`'s own private keys."""
    private = next(key for key in auth.keys["keys"] if key["kid"] == kid)
    return jose_jwt.encode(claims, private, algorithm=private["alg"], headers={"kid": kid, "typ": "at+jwt"})


def test_metadata_lists_every_issuer_in_the_order_given(issuers: TwoIssuers, server: McpServerProcess) -> None:
    metadata_path = "/.well-known/oauth-protected-resource/mcp"
    listed = httpx.get(server.base_url + metadata_path, timeout=30).json()
    assert listed["authorization_servers"] == [issuers.first.issuer, issuers.second.issuer]
    reversed_list = f"{issuers.second.issuer}, {issuers.first.issuer}"  # the command-line flag, with a space
    with server_trusting(reversed_list, via_cli=True) as other:
        listed = httpx.get(other.base_url + metadata_path, timeout=30).json()
    assert listed["authorization_servers"] == [issuers.second.issuer, issuers.first.issuer]


@pytest.mark.anyio
async def test_tokens_from_both_issuers_reach_the_tools(issuers: TwoIssuers, server: McpServerProcess) -> None:
    for auth in (issuers.first, issuers.second):
        async with mcp_client(server.url, token_from(auth, scope="oscal:read oscal:write")) as client:
            about = (await client.call_tool("about", {})).structured_content
        assert about is not None
        assert about["caller"]["client_id"] == CLIENT_ID
        assert about["caller"]["scopes"] == ["oscal:read", "oscal:write"]


def test_a_third_issuers_token_is_refused_without_asking_it_anything(
    issuers: TwoIssuers, server: McpServerProcess
) -> None:
    with AuthorizationServer(
        clients=[Client(CLIENT_ID, CLIENT_SECRET)],
        resources=[Resource(RESOURCE, scope="oscal:read")],
        keys=issuers.first.keys,  # even the first issuer's very keys: the issuer decides, not the key
    ) as third:
        token = token_from(third)
        third.reset_stats()
        assert_refused(server, token, "wrong_issuer")
        assert third.stats()["endpoints"] == {}  # neither discovery nor keys were fetched from it


def test_a_token_relabelled_with_the_other_issuer_is_refused(issuers: TwoIssuers, server: McpServerProcess) -> None:
    for source, target in ((issuers.first, issuers.second), (issuers.second, issuers.first)):
        token = token_from(source)
        header, _, signature = token.split(".")
        claims = {**jose_jwt.get_unverified_claims(token), "iss": target.issuer}
        relabelled = f"{header}.{b64json(claims)}.{signature}"
        assert_refused(server, relabelled, "bad_signature")
        # Re-signed by the source's own key, under a kid the target publishes too: a signature that
        # is valid for one trusted issuer, so only "the target's keys alone" refuses it.
        resigned = signed_by(source, {**claims, "jti": f"resigned-{target.port}"})
        assert_refused(server, resigned, "bad_signature")
        assert status_of(server, signed_by(source, claims | {"iss": source.issuer, "jti": "own"})) == 200


def test_each_issuers_keys_are_fetched_once(issuers: TwoIssuers) -> None:
    tokens = [token_from(auth) for auth in (issuers.first, issuers.second) for _ in range(5)]
    with server_trusting(issuers.issuer_list) as fresh:
        issuers.reset_stats()
        with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            statuses = list(pool.map(lambda token: status_of(fresh, token), tokens * 2))
    assert statuses == [200] * len(statuses)
    for auth in (issuers.first, issuers.second):
        assert auth.hits("discovery") == 1
        assert auth.hits("jwks") == 1


@pytest.mark.anyio
async def test_one_issuer_stopped_after_warm_up_leaves_the_other_working(
    issuers: TwoIssuers, server: McpServerProcess
) -> None:
    assert status_of(server, token_from(issuers.first)) == 200  # both key sets warm
    assert status_of(server, token_from(issuers.second)) == 200
    unseen_first = token_from(issuers.first, scope="oscal:read oscal:write")
    issuers.first.stop()
    try:
        fresh_second = token_from(issuers.second, scope="oscal:read oscal:write")  # never seen by the server
        async with mcp_client(server.url, fresh_second) as client:
            assert (await client.call_tool("about", {})).is_error is False
        assert status_of(server, unseen_first) == 200  # the stopped issuer's cached keys still serve
    finally:
        issuers.first.restart()


def test_one_issuer_down_at_start_up_leaves_the_other_working(issuers: TwoIssuers) -> None:
    first_token = token_from(issuers.first)
    with server_trusting(issuers.issuer_list) as fresh:
        issuers.first.stop()
        try:
            for _ in range(3):
                assert status_of(fresh, token_from(issuers.second)) == 200
            assert_refused(fresh, first_token, "jwks_unavailable")
        finally:
            issuers.first.restart()
        time.sleep(MIN_REFRESH_SECONDS + 0.1)  # the first issuer's cool-down after its failed fetch
        assert status_of(fresh, first_token) == 200  # it recovers on its own


def test_a_hanging_issuer_does_not_hold_up_the_others_tokens(issuers: TwoIssuers) -> None:
    first_token, second_token = token_from(issuers.first), token_from(issuers.second)
    with server_trusting(issuers.issuer_list) as fresh:
        issuers.first.set_delay((FETCH_TIMEOUT_SECONDS + 20) * 1000)
        try:
            first_status: list[int] = []
            waiting = threading.Thread(target=lambda: first_status.append(status_of(fresh, first_token)))
            waiting.start()
            time.sleep(0.5)  # let its discovery request reach the hanging Authorization Server
            assert status_of(fresh, second_token) == 200  # answered while the first issuer hangs
            assert waiting.is_alive()
        finally:
            issuers.first.set_delay(0)
        waiting.join()
    assert first_status == [401]  # cut off at the fetch timeout, failing closed


def test_the_introspection_verifier_with_two_issuers_stops_start_up(issuers: TwoIssuers) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oscal_mcp", "--transport", "streamable-http", "--port", "1"],
        capture_output=True, text=True, timeout=60,
        env=clean_environment({
            "OSCAL_AUTH_VERIFIER": "introspection",
            "OSCAL_AUTH_ISSUER_URL": issuers.issuer_list,
            "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE,
            "OSCAL_AUTH_INTROSPECTION_CLIENT_ID": "mcp-rs",
            "OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET": "mcp-rs-secret-1",
        }),
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "supports one issuer" in lines[0], result.stderr
