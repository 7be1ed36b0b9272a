"""The jwt backend against a real Authorization Server (oidc-provider) over real HTTP.

Reads like the README: start the AS, start the server with its issuer, connect the SDK's client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from jose import jwt as jose_jwt
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from tests.e2e.as_fixture import AuthorizationServer, Client, Resource, generate_keys, generate_rsa_jwk, public_pem
from tests.e2e.clients import bearer, challenge_params, mcp_client, post_initialize
from tests.e2e.mcp_server import McpServerProcess

pytestmark = [pytest.mark.e2e]

SECRET = "client-secret-1"


@dataclass
class Stack:
    auth: AuthorizationServer
    server: McpServerProcess
    es_resource: str
    short_resource: str
    other_resource: str

    def token(self, resource: str | None = None, scope: str = "oscal:read") -> str:
        return self.auth.client_credentials_token(
            "mcp-client", SECRET, resource=resource or self.server.url, scope=scope
        )


def b64(data: bytes | dict[str, object]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, object]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    server = McpServerProcess(
        env={}  # filled below, once the AS knows its port
    )
    base = f"http://127.0.0.1:{server.port}"
    es_resource, short_resource, other_resource = f"{base}/es", f"{base}/short", "http://127.0.0.1:1/other"
    auth = AuthorizationServer(
        clients=[Client("mcp-client", SECRET)],
        resources=[
            Resource(server.url, scope="oscal:read oscal:write profile"),
            Resource(es_resource, scope="oscal:read", jwt_alg="ES256"),
            Resource(short_resource, scope="oscal:read", access_token_ttl=1),
            Resource(other_resource, scope="oscal:read"),
        ],
    ).start()
    server.env.update(
        {
            "OSCAL_AUTH_ISSUER_URL": auth.issuer,
            "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
            "OSCAL_AUTH_JWT_AUDIENCE": f"{server.url},{es_resource},{short_resource}",
            "OSCAL_AUTH_JWT_JWKS_MIN_REFRESH_SECONDS": "1",
            "OSCAL_AUTH_JWT_REQUIRE_TYP": "true",
            "OSCAL_AUTH_LEEWAY_SECONDS": "0",
            "OSCAL_AUTH_JWT_TIMEOUT_SECONDS": "2",
        }
    )
    server.start()
    try:
        yield Stack(auth, server, es_resource, short_resource, other_resource)
    finally:
        server.stop()
        auth.stop()


def assert_rejected(stack: Stack, token: str, reason: str) -> None:
    response = post_initialize(stack.server.url, bearer(token))
    assert response.status_code == 401, response.text
    assert challenge_params(response)["error"] == "invalid_token"
    assert f"reason={reason} " in stack.server.logs()


@pytest.mark.anyio
async def test_token_for_this_resource_reaches_the_tools(stack: Stack) -> None:
    token = stack.token(scope="oscal:read profile")
    async with mcp_client(stack.server.url, token) as client:
        about = (await client.call_tool("about", {})).structured_content
    assert about is not None
    assert about["caller"] == {"client_id": "mcp-client", "subject": "mcp-client", "scopes": ["oscal:read", "profile"]}
    assert about["auth"]["verifier"] == "jwt"


def test_es256_token_is_accepted(stack: Stack) -> None:
    token = stack.token(resource=stack.es_resource)
    assert jose_jwt.get_unverified_header(token)["alg"] == "ES256"
    assert post_initialize(stack.server.url, bearer(token)).status_code == 200


@pytest.mark.anyio
async def test_client_credentials_discovery_dance(stack: Stack) -> None:
    """401 -> protected resource metadata -> AS metadata -> token with resource indicator -> tools."""

    class Memory:
        tokens: OAuthToken | None = None
        info: OAuthClientInformationFull | None = None

        async def get_tokens(self) -> OAuthToken | None:
            return self.tokens

        async def set_tokens(self, tokens: OAuthToken) -> None:
            self.tokens = tokens

        async def get_client_info(self) -> OAuthClientInformationFull | None:
            return self.info

        async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
            self.info = client_info

    storage = Memory()
    provider = ClientCredentialsOAuthProvider(
        server_url=stack.server.url, storage=storage, client_id="mcp-client", client_secret=SECRET,
        scope="oscal:read", issuer=stack.auth.issuer,
    )  # fmt: skip
    async with mcp_client(stack.server.url, auth=provider) as client:
        about = (await client.call_tool("about", {})).structured_content
    assert about is not None and about["caller"]["client_id"] == "mcp-client"
    assert storage.tokens is not None
    assert claims_of(storage.tokens.access_token)["aud"] == stack.server.url


def test_token_for_another_resource_is_rejected(stack: Stack) -> None:
    assert_rejected(stack, stack.token(resource=stack.other_resource), "wrong_audience")


def test_expired_token_is_rejected(stack: Stack) -> None:
    token = stack.token(resource=stack.short_resource)
    assert post_initialize(stack.server.url, bearer(token)).status_code == 200  # cached until exp
    time.sleep(2.1)
    assert_rejected(stack, token, "expired")


def test_token_from_another_issuer_is_rejected(stack: Stack) -> None:
    with AuthorizationServer(
        clients=[Client("mcp-client", SECRET)],
        resources=[Resource(stack.server.url, scope="oscal:read")],
        keys=stack.auth.keys,  # same keys: only the issuer differs
    ) as impostor:
        token = impostor.client_credentials_token("mcp-client", SECRET, resource=stack.server.url, scope="oscal:read")
    assert_rejected(stack, token, "wrong_issuer")


def test_missing_scope_gets_403(stack: Stack) -> None:
    response = post_initialize(stack.server.url, bearer(stack.token(scope="profile")))
    assert response.status_code == 403
    assert challenge_params(response)["scope"] == "oscal:read"


def test_tampered_signature_is_rejected(stack: Stack) -> None:
    header, _, signature = stack.token().split(".")
    forged_claims = b64({**claims_of(stack.token()), "scope": "oscal:read oscal:admin"})
    assert_rejected(stack, f"{header}.{forged_claims}.{signature}", "bad_signature")


def test_alg_none_is_rejected(stack: Stack) -> None:
    claims = claims_of(stack.token())
    for alg in ("none", "None", "NONE"):
        assert_rejected(stack, f"{b64({'alg': alg, 'typ': 'at+jwt'})}.{b64(claims)}.", "bad_algorithm")


def test_hs256_signed_with_the_public_key_is_rejected(stack: Stack) -> None:
    rsa_jwk = next(k for k in stack.auth.public_jwks["keys"] if k["kty"] == "RSA")
    secret = public_pem(rsa_jwk).encode()
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': rsa_jwk['kid']})}.{b64(claims_of(stack.token()))}"
    signature = b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    assert_rejected(stack, f"{signing_input}.{signature}", "bad_algorithm")


def forge_with_unknown_kid(stack: Stack, kid: str) -> str:
    private = generate_rsa_jwk(kid)
    return jose_jwt.encode(claims_of(stack.token()), private, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})


def test_unknown_kid_causes_one_refresh_then_rejects(stack: Stack) -> None:
    time.sleep(1.1)  # past the min-refresh interval of this stack
    stack.auth.reset_stats()
    assert_rejected(stack, forge_with_unknown_kid(stack, "forged-1"), "unknown_key")
    assert stack.auth.hits("jwks") == 1
    for n in range(5):  # a flood of forged kids within the interval costs the AS nothing
        assert_rejected(stack, forge_with_unknown_kid(stack, f"forged-flood-{n}"), "unknown_key")
    assert stack.auth.hits("jwks") == 1


def test_key_rotation_is_picked_up_after_one_refresh(stack: Stack) -> None:
    old = stack.auth.keys
    rotated = generate_keys(("rs-rotated", "es-rotated"))
    stack.auth.restart(keys={"keys": rotated["keys"] + old["keys"]})  # new keys first: they sign
    token = stack.token()
    assert jose_jwt.get_unverified_header(token)["kid"] == "rs-rotated"
    time.sleep(1.1)
    stack.auth.reset_stats()
    assert post_initialize(stack.server.url, bearer(token)).status_code == 200
    assert stack.auth.hits("jwks") == 1


@pytest.mark.anyio
async def test_as_stopped_after_warm_up_keeps_serving_with_cached_keys(stack: Stack) -> None:
    token = stack.token()
    assert post_initialize(stack.server.url, bearer(token)).status_code == 200  # keys warm
    fresh_token = stack.token(scope="oscal:read oscal:write")  # never seen by the server
    stack.auth.stop()
    try:
        async with mcp_client(stack.server.url, fresh_token) as client:
            assert (await client.call_tool("about", {})).is_error is False
    finally:
        stack.auth.start()


def test_cold_start_with_the_as_down_fails_closed_within_the_timeout(stack: Stack) -> None:
    token = stack.token()
    down = McpServerProcess(env={"OSCAL_AUTH_ISSUER_URL": "http://127.0.0.1:9/unreachable",
                                 "OSCAL_AUTH_JWT_AUDIENCE": stack.server.url,
                                 "OSCAL_AUTH_JWT_TIMEOUT_SECONDS": "1"})  # fmt: skip
    with down:
        started = time.monotonic()
        response = httpx.post(down.url, headers=bearer(token), json={}, timeout=30)
        elapsed = time.monotonic() - started
    assert response.status_code == 401
    assert elapsed < 10  # bounded by the 1 s fetch timeout, with room for a loaded machine
    assert "reason=jwks_unavailable" in down.logs()
