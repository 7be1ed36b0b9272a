"""DPoP-bound tokens (RFC 9449) end to end: oidc-provider with its ``dPoP`` feature binds tokens to
the client's key at the token endpoint, and real server processes (jwt and introspection, and two
replicas sharing a real Redis) take them with proofs and refuse every kind of bad proof.

The servers' resource URL is a public https URL, as behind a TLS proxy: proofs name that URL
(``htu``), whatever loopback port a test server happens to listen on.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.auth.test_dpop_fuzz import HOSTILE_VALUE, MEMBER, signed_by
from tests.e2e.as_fixture import AuthorizationServer, Client, Features, Resource
from tests.e2e.clients import bearer, mcp_client, post_initialize
from tests.e2e.dpop_client import DPoPKey, ath, b64url
from tests.e2e.mcp_server import McpServerProcess
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.e2e]

PUBLIC_JWT = "https://dpop.example.test/mcp"
PUBLIC_OPAQUE = "https://dpop-opaque.example.test/mcp"
CLIENT, SECRET = "mcp-client", "client-secret-1"
RS_CLIENT, RS_SECRET = "mcp-rs", "rs-secret-1"
CACHE_SECRET = "dpop-replay-cache-secret-of-32-bytes+"


@dataclass
class Stack:
    auth: AuthorizationServer
    jwt_replicas: list[McpServerProcess]
    introspection: McpServerProcess
    """Introspection, with OSCAL_AUTH_DPOP_REQUIRED=true."""
    nonces: McpServerProcess
    """jwt, with OSCAL_AUTH_DPOP_NONCE=true."""

    def token(self, key: DPoPKey | None, resource: str = PUBLIC_JWT) -> str:
        return self.auth.client_credentials_token(CLIENT, SECRET, resource, "oscal:read", dpop=key)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    auth = AuthorizationServer(
        clients=[Client(CLIENT, SECRET), Client(RS_CLIENT, RS_SECRET, grant_types=())],
        resources=[
            Resource(PUBLIC_JWT, scope="oscal:read"),
            Resource(
                PUBLIC_OPAQUE, scope="oscal:read", access_token_format="opaque", introspection_clients=(RS_CLIENT,)
            ),
        ],
        features=Features(dpop=True),
    ).start()
    redis = RedisServer().start()
    common = {"OSCAL_AUTH_ISSUER_URL": auth.issuer, "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read"}
    jwt_env = {
        **common,
        "OSCAL_AUTH_RESOURCE_SERVER_URL": PUBLIC_JWT,
        "OSCAL_AUTH_CACHE_URL": redis.url,
        "OSCAL_AUTH_CACHE_SECRET": CACHE_SECRET,
        "OSCAL_MCP_STATELESS_HTTP": "true",
    }
    introspection_env = {
        **common,
        "OSCAL_AUTH_VERIFIER": "introspection",
        "OSCAL_AUTH_RESOURCE_SERVER_URL": PUBLIC_OPAQUE,
        "OSCAL_AUTH_INTROSPECTION_CLIENT_ID": RS_CLIENT,
        "OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET": RS_SECRET,
        "OSCAL_AUTH_DPOP_REQUIRED": "true",
    }
    nonce_env = {**jwt_env, "OSCAL_AUTH_DPOP_NONCE": "true"}
    servers = [McpServerProcess(env=env) for env in (jwt_env, jwt_env, introspection_env, nonce_env)]
    try:
        for server in servers:
            server.start()
        yield Stack(auth, servers[:2], servers[2], servers[3])
    finally:
        for server in servers:
            server.stop()
        redis.stop()
        auth.stop()


class DPoPAuth(httpx2.Auth):
    """What a DPoP client does on every request: ``Authorization: DPoP`` and a fresh proof for the
    request's method and public URL (RFC 9449 section 7.1); it keeps the server's latest
    ``DPoP-Nonce`` and, told ``use_dpop_nonce``, retries once with it (section 9)."""

    def __init__(self, token: str, key: DPoPKey, public_url: str) -> None:
        self.token, self.key = token, key
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(public_url))
        self.nonce: str | None = None
        self.nonce_retries = 0

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        response = yield self._signed(request)
        self.nonce = response.headers.get("dpop-nonce", self.nonce)
        challenges = response.headers.get_list("www-authenticate")
        if response.status_code == 401 and any('error="use_dpop_nonce"' in value for value in challenges):
            self.nonce_retries += 1
            yield self._signed(request)

    def _signed(self, request: httpx2.Request) -> httpx2.Request:
        claims = {"nonce": self.nonce} if self.nonce else None
        htu = self.origin + request.url.path
        request.headers["Authorization"] = f"DPoP {self.token}"
        request.headers["DPoP"] = self.key.proof(request.method, htu, access_token=self.token, claims=claims)
        return request


def dpop_headers(token: str, proof: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


def assert_refused(server: McpServerProcess, headers: dict[str, str], error: str, reason: str) -> httpx.Response:
    response = post_initialize(server.url, headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == error
    dpop_challenge = next(v for v in response.headers.get_list("www-authenticate") if v.startswith("DPoP "))
    assert f'error="{error}"' in dpop_challenge and 'algs="ES256 RS256"' in dpop_challenge
    assert f"reason={reason} " in server.logs()
    return response


@pytest.mark.anyio
@pytest.mark.parametrize("alg", ["ES256", "RS256"])
async def test_the_sdk_client_calls_tools_with_a_dpop_bound_jwt(stack: Stack, alg: str) -> None:
    key = DPoPKey.generate(alg)
    token = stack.token(key)
    server = stack.jwt_replicas[0]
    async with mcp_client(server.url, auth=DPoPAuth(token, key, PUBLIC_JWT)) as client:
        about = (await client.call_tool("about", {})).structured_content
        again = (await client.call_tool("about", {})).structured_content
    assert about is not None and again == about
    assert about["caller"]["client_id"] == CLIENT


@pytest.mark.anyio
async def test_the_sdk_client_calls_tools_with_a_dpop_bound_opaque_token(stack: Stack) -> None:
    key = DPoPKey.generate("ES256")
    token = stack.token(key, PUBLIC_OPAQUE)
    async with mcp_client(stack.introspection.url, auth=DPoPAuth(token, key, PUBLIC_OPAQUE)) as client:
        about = (await client.call_tool("about", {})).structured_content
    assert about is not None and about["auth"]["verifier"] == "introspection"


@pytest.mark.anyio
async def test_where_the_server_hands_out_nonces_the_client_learns_one_and_keeps_up(stack: Stack) -> None:
    key = DPoPKey.generate("ES256")
    token = stack.token(key)
    auth = DPoPAuth(token, key, PUBLIC_JWT)
    async with mcp_client(stack.nonces.url, auth=auth) as client:
        for _ in range(3):
            assert (await client.call_tool("about", {})).structured_content is not None
    assert auth.nonce_retries == 1  # told once; every later answer carried the current nonce
    assert "reason=dpop_nonce " in stack.nonces.logs()


def test_a_replayed_proof_is_refused(stack: Stack) -> None:
    key = DPoPKey.generate()
    token = stack.token(key)
    server = stack.jwt_replicas[0]
    proof = key.proof("POST", PUBLIC_JWT, access_token=token)
    assert post_initialize(server.url, dpop_headers(token, proof)).status_code == 200
    assert_refused(server, dpop_headers(token, proof), "invalid_dpop_proof", "dpop_replay")


def test_a_proof_used_at_one_replica_is_refused_at_the_other(stack: Stack) -> None:
    key = DPoPKey.generate()
    token = stack.token(key)
    first, second = stack.jwt_replicas
    proof = key.proof("POST", PUBLIC_JWT, access_token=token)
    assert post_initialize(first.url, dpop_headers(token, proof)).status_code == 200
    assert_refused(second, dpop_headers(token, proof), "invalid_dpop_proof", "dpop_replay")
    fresh = key.proof("POST", PUBLIC_JWT, access_token=token)
    assert post_initialize(second.url, dpop_headers(token, fresh)).status_code == 200


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong_htm", "dpop_htm"),
        ("wrong_htu", "dpop_htu"),
        ("wrong_ath", "dpop_ath"),
        ("stale_iat", "dpop_iat"),
        ("private_jwk", "dpop_jwk"),
    ],
)
def test_a_bad_proof_is_refused(stack: Stack, case: str, reason: str) -> None:
    key = DPoPKey.generate()
    token = stack.token(key)
    proof = {
        "wrong_htm": lambda: key.proof("GET", PUBLIC_JWT, access_token=token),
        "wrong_htu": lambda: key.proof("POST", "https://dpop.example.test/other", access_token=token),
        "wrong_ath": lambda: key.proof("POST", PUBLIC_JWT, access_token=stack.token(key)),
        "stale_iat": lambda: key.proof("POST", PUBLIC_JWT, access_token=token, claims={"iat": int(time.time()) - 400}),
        "private_jwk": lambda: key.proof("POST", PUBLIC_JWT, access_token=token, header={"jwk": key.private_jwk}),
    }[case]()
    assert_refused(stack.jwt_replicas[0], dpop_headers(token, proof), "invalid_dpop_proof", reason)


def test_the_server_url_it_listens_on_is_not_the_htu(stack: Stack) -> None:
    key = DPoPKey.generate()
    token = stack.token(key)
    server = stack.jwt_replicas[0]
    proof = key.proof("POST", server.url, access_token=token)
    assert_refused(server, dpop_headers(token, proof), "invalid_dpop_proof", "dpop_htu")


@pytest.mark.parametrize("server_index", [0, 2])
def test_a_proof_by_another_key_is_refused(stack: Stack, server_index: int) -> None:
    key, thief = DPoPKey.generate(), DPoPKey.generate()
    server = [*stack.jwt_replicas, stack.introspection][server_index]
    public = PUBLIC_JWT if server_index == 0 else PUBLIC_OPAQUE
    token = stack.token(key, public)
    assert_refused(server, dpop_headers(token, thief.proof("POST", public, access_token=token)), "invalid_token",
                   "dpop_key_mismatch")  # fmt: skip


def test_a_bound_jwt_under_bearer_is_refused(stack: Stack) -> None:
    server = stack.jwt_replicas[0]
    response = post_initialize(server.url, bearer(stack.token(DPoPKey.generate())))
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert "reason=bound_token " in server.logs()


def test_where_dpop_is_required_bearer_and_unbound_tokens_are_refused(stack: Stack) -> None:
    server = stack.introspection
    bound = stack.token(DPoPKey.generate(), PUBLIC_OPAQUE)
    response = post_initialize(server.url, bearer(bound))
    assert response.status_code == 401
    assert [v.split(" ")[0] for v in response.headers.get_list("www-authenticate")] == ["DPoP"]
    key = DPoPKey.generate()
    plain = stack.token(None, PUBLIC_OPAQUE)
    assert_refused(server, dpop_headers(plain, key.proof("POST", PUBLIC_OPAQUE, access_token=plain)),
                   "invalid_token", "dpop_required")  # fmt: skip


def test_where_dpop_is_optional_an_unbound_token_may_come_with_a_proof(stack: Stack) -> None:
    key = DPoPKey.generate()
    plain = stack.token(None)
    proof = key.proof("POST", PUBLIC_JWT, access_token=plain)
    assert post_initialize(stack.jwt_replicas[0].url, dpop_headers(plain, proof)).status_code == 200


def test_the_metadata_tells_clients_about_dpop(stack: Stack) -> None:
    optional = httpx.get(f"{stack.jwt_replicas[0].base_url}/.well-known/oauth-protected-resource/mcp").json()
    required = httpx.get(f"{stack.introspection.base_url}/.well-known/oauth-protected-resource/mcp").json()
    assert optional["dpop_signing_alg_values_supported"] == ["ES256", "RS256"]
    assert (optional["dpop_bound_access_tokens_required"], required["dpop_bound_access_tokens_required"]) == (
        False,
        True,
    )


DEEP_JSON = b"[" * 1200 + b"]" * 1200


@pytest.mark.parametrize(
    ("case", "reason"),
    [("nested 1200 levels deep", "dpop_malformed"), ("ath a lone surrogate", "dpop_malformed"),
     ("jti a lone surrogate", "dpop_malformed")],
)  # fmt: skip
def test_a_hostile_proof_is_refused_with_its_reason_never_a_500(stack: Stack, case: str, reason: str) -> None:
    key = DPoPKey.generate()
    token = stack.token(key)  # accepted: the jti is read only for a proof whose token passed
    proof = {
        "nested 1200 levels deep": lambda: f"{b64url(DEEP_JSON)}.{b64url(b'{}')}.AAAA",
        "ath a lone surrogate": lambda: key.proof("POST", PUBLIC_JWT, claims={"ath": "\ud800"}),
        "jti a lone surrogate": lambda: key.proof("POST", PUBLIC_JWT, access_token=token, claims={"jti": "\udfff"}),
    }[case]()
    server = stack.jwt_replicas[1]
    assert_refused(server, dpop_headers(token if case != "nested 1200 levels deep" else "anything", proof),
                   "invalid_dpop_proof", reason)  # fmt: skip
    assert "Traceback" not in server.logs()


def test_a_non_ascii_nonce_is_answered_with_a_fresh_nonce_never_a_500(stack: Stack) -> None:
    key = DPoPKey.generate()
    token = stack.token(key)
    proof = key.proof("POST", PUBLIC_JWT, access_token=token, claims={"nonce": "n\u00e9"})
    response = assert_refused(stack.nonces, dpop_headers(token, proof), "use_dpop_nonce", "dpop_nonce")
    assert response.headers["dpop-nonce"]
    assert "Traceback" not in stack.nonces.logs()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(MEMBER, HOSTILE_VALUE), min_size=1, max_size=2))
def test_fuzzed_proofs_over_http_are_accepted_or_refused_never_a_500(
    stack: Stack, bound: tuple[DPoPKey, str], changes: list[tuple[tuple[str, str], Any]]
) -> None:
    """The parser fuzz of tests/auth/test_dpop_fuzz.py, through a real server with a real bound
    token: every proof is signed by the token's key, so every check up to the replay cache in
    Redis is reached (the nonce check has a test of its own)."""
    key, token = bound
    header: dict[str, Any] = {"typ": "dpop+jwt", "alg": key.alg, "jwk": key.public_jwk}
    claims: dict[str, Any] = {"jti": str(uuid.uuid4()), "htm": "POST", "htu": PUBLIC_JWT, "iat": int(time.time()),
                              "ath": ath(token)}  # fmt: skip
    for (where, member), value in changes:
        (header if where == "header" else claims)[member] = value
    proof = signed_by(key, header, claims)
    server = stack.jwt_replicas[1]
    response = post_initialize(server.url, dpop_headers(token, proof))
    assert response.status_code in (200, 401), response.text
    assert "Traceback" not in server.logs()


@pytest.fixture(scope="module")
def bound(stack: Stack) -> tuple[DPoPKey, str]:
    key = DPoPKey.generate()
    return key, stack.token(key)
