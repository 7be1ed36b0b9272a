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

import httpx
import pytest
from jose import jwt as jose_jwt
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from tests.e2e.as_fixture import AuthorizationServer, Client, Resource, generate_keys, generate_rsa_jwk, public_pem
from tests.e2e.clients import bearer, challenge_params, mcp_client, post_initialize
from tests.e2e.mcp_server import McpServerProcess
from tests.e2e.stacks import CLIENT_SECRET as SECRET
from tests.e2e.stacks import JwtStack, jwt_stack

pytestmark = [pytest.mark.e2e]

Stack = JwtStack


def b64(data: bytes | dict[str, object]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, object]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with jwt_stack() as deployment:
        yield deployment


def assert_rejected(stack: Stack, token: str, reason: str) -> None:
    """401 invalid_token, and this very request logged `reason` (not an earlier test's request)."""
    logged_before = stack.server.log_position()
    response = post_initialize(stack.server.url, bearer(token))
    assert response.status_code == 401, response.text
    assert challenge_params(response)["error"] == "invalid_token"
    assert f"reason={reason} " in stack.server.logs(since=logged_before)


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
    token = stack.token(resource=stack.short_resource)  # lives 3 s (exp is a whole second)
    assert post_initialize(stack.server.url, bearer(token)).status_code == 200  # cached until exp
    exp = claims_of(token)["exp"]
    assert isinstance(exp, int)
    time.sleep(max(0.0, exp - time.time()) + 1.1)
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
    forged = [forge_with_unknown_kid(stack, f"forged-{n}") for n in range(6)]  # key generation is slow
    assert post_initialize(stack.server.url, bearer(stack.token())).status_code == 200  # keys warm
    time.sleep(1.1)  # past the 1 s min-refresh interval of this stack
    stack.auth.reset_stats()
    assert_rejected(stack, forged[0], "unknown_key")
    assert stack.auth.hits("jwks") == 1  # exactly one refresh for the unknown kid
    started = time.monotonic()
    for token in forged[1:]:  # a flood of forged kids: at most one refresh per interval
        assert_rejected(stack, token, "unknown_key")
    allowed_refreshes = int((time.monotonic() - started) / 1.0)
    assert stack.auth.hits("jwks") <= 1 + allowed_refreshes


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
        stack.auth.restart()  # the same port, hence the same issuer, for the module's other tests


def test_cold_start_with_the_as_down_fails_closed_within_the_timeout(stack: Stack) -> None:
    unreachable = "http://127.0.0.1:9/unreachable"
    rs_1 = next(k for k in stack.auth.keys["keys"] if k["kid"] == "rs-1")
    # iss must name the unreachable issuer: a token of any other issuer is refused before any fetch
    token = jose_jwt.encode({**claims_of(stack.token()), "iss": unreachable}, rs_1, algorithm="RS256",
                            headers={"kid": "rs-1", "typ": "at+jwt"})  # fmt: skip
    down = McpServerProcess(env={"OSCAL_AUTH_ISSUER_URL": unreachable,
                                 "OSCAL_AUTH_JWT_AUDIENCE": stack.server.url,
                                 "OSCAL_AUTH_JWT_TIMEOUT_SECONDS": "1"})  # fmt: skip
    with down:
        started = time.monotonic()
        response = httpx.post(down.url, headers=bearer(token), json={}, timeout=30)
        elapsed = time.monotonic() - started
    assert response.status_code == 401
    assert elapsed < 10  # bounded by the 1 s fetch timeout, with room for a loaded machine
    assert "reason=jwks_unavailable" in down.logs()
