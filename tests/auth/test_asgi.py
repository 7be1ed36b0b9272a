"""The request-level auth layer: `protect` / `BearerAuth` answer every case with the right status,
challenge and body, and only a valid token for this resource with every scope reaches the endpoint."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from oscal_mcp_auth import BearerAuth, ProtectedResource, protect
from oscal_mcp_auth.asgi import MAX_TOKEN_LENGTH, Presented, read_authorization
from oscal_mcp_auth.challenge import BearerError

pytestmark = pytest.mark.anyio

RESOURCE = "https://mcp.example.com/mcp"
ISSUER = "https://idp.example.com"
METADATA = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
SCOPES = ("oscal:read", "oscal:write")


@dataclass
class FakeVerifier:
    """An in-process TokenVerifier: known tokens map to access tokens; every call is recorded."""

    tokens: dict[str, AccessToken]
    calls: list[str] = field(default_factory=list)

    async def verify_token(self, token: str) -> AccessToken | None:
        self.calls.append(token)
        return self.tokens.get(token)


def access(token: str, scopes: tuple[str, ...] = SCOPES, resource: str | None = RESOURCE) -> AccessToken:
    return AccessToken(token=token, client_id=f"client-{token}", scopes=list(scopes), resource=resource)


VERIFIER_TOKENS = {
    "good": access("good"),
    "read-only": access("read-only", scopes=("oscal:read",)),
    "other-resource": access("other-resource", resource="https://other.example.com/api"),
    "no-resource": access("no-resource", resource=None),
    "bad-resource": access("bad-resource", resource="not a url"),
    "same-resource-other-spelling": access("same-resource-other-spelling", resource="HTTPS://MCP.example.com:443/mcp/"),
    "resource-prefix": access("resource-prefix", resource="https://mcp.example.com/mcp-evil"),
}


@dataclass
class Endpoint:
    """The protected ASGI endpoint: records what it saw, answers 200 with the caller's client id."""

    seen: list[tuple[AccessToken | None, object, object]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = get_access_token()
        self.seen.append((token, scope.get("user"), scope.get("auth")))
        body = json.dumps({"client_id": token.client_id if token else None}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


@dataclass
class Deployment:
    client: httpx.AsyncClient
    verifier: FakeVerifier
    endpoint: Endpoint
    denied: list[tuple[AccessToken, list[str]]]


async def _deployment(resource: ProtectedResource) -> AsyncIterator[Deployment]:
    verifier, endpoint = FakeVerifier(dict(VERIFIER_TOKENS)), Endpoint()
    denied: list[tuple[AccessToken, list[str]]] = []
    routes = protect(
        endpoint, verifier, resource, path="/mcp", on_scope_denied=lambda a, missing: denied.append((a, missing))
    )
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    async with httpx.AsyncClient(transport=transport, base_url="https://mcp.example.com") as client:
        yield Deployment(client, verifier, endpoint, denied)


@pytest.fixture
async def deployment() -> AsyncIterator[Deployment]:
    async for made in _deployment(ProtectedResource(RESOURCE, authorization_servers=(ISSUER,), required_scopes=SCOPES)):
        yield made


def assert_challenge(response: httpx.Response, status: int, error: str | None) -> dict[str, str]:
    """Status, the RFC 6750 headers and the JSON body of a challenge; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    body: dict[str, str] = response.json()
    assert body.get("error") == error
    assert body["error_description"]
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{METADATA}"' in challenge
    assert challenge.endswith('scope="oscal:read oscal:write"')
    if error is None:
        assert "error=" not in challenge
    else:
        assert f'error="{error}", error_description="{body["error_description"]}"' in challenge
    return body


async def test_no_credentials_get_a_401_without_error(deployment: Deployment) -> None:
    response = await deployment.client.post("/mcp")
    assert_challenge(response, 401, None)
    expected = f'Bearer resource_metadata="{METADATA}", scope="oscal:read oscal:write"'
    assert response.headers["www-authenticate"] == expected
    assert deployment.verifier.calls == [] and deployment.endpoint.seen == []


async def test_another_scheme_counts_as_no_credentials(deployment: Deployment) -> None:
    response = await deployment.client.post("/mcp", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_challenge(response, 401, None)
    assert deployment.verifier.calls == []


@pytest.mark.parametrize(
    ("headers", "url"),
    [
        ([("Authorization", "Bearer good"), ("Authorization", "Bearer good")], "/mcp"),
        ([("Authorization", "Bearer ")], "/mcp"),
        ([("Authorization", "Bearer")], "/mcp"),
        ([], "/mcp?access_token=good"),
        ([("Authorization", "Bearer good")], "/mcp?access_token=good"),
    ],
    ids=["two-headers", "empty-token", "scheme-only", "token-in-query", "header-and-query"],
)
async def test_malformed_requests_get_a_400_invalid_request(
    deployment: Deployment, headers: list[tuple[str, str]], url: str
) -> None:
    assert_challenge(await deployment.client.post(url, headers=headers), 400, "invalid_request")
    assert deployment.verifier.calls == [] and deployment.endpoint.seen == []


@pytest.mark.parametrize(
    "token",
    ["has space", 'quote"d', "ünïcode", "a=b", "x" * (MAX_TOKEN_LENGTH + 1)],
    ids=["space", "quote", "non-ascii", "padding-inside", "too-long"],
)
async def test_tokens_outside_the_rfc6750_syntax_are_refused_unverified(deployment: Deployment, token: str) -> None:
    headers = [(b"authorization", b"Bearer " + token.encode())]
    assert_challenge(await deployment.client.post("/mcp", headers=headers), 401, "invalid_token")
    assert deployment.verifier.calls == []


async def test_a_token_the_verifier_refuses_gets_a_401_invalid_token(deployment: Deployment) -> None:
    response = await deployment.client.post("/mcp", headers={"Authorization": "Bearer unknown"})
    assert_challenge(response, 401, "invalid_token")
    assert deployment.verifier.calls == ["unknown"] and deployment.endpoint.seen == []


@pytest.mark.parametrize("token", ["other-resource", "no-resource", "bad-resource", "resource-prefix"])
async def test_token_for_other_resource_is_rejected(deployment: Deployment, token: str) -> None:
    """RFC 8707: the verifier accepted the token, but it was issued for another resource."""
    response = await deployment.client.post("/mcp", headers={"Authorization": f"Bearer {token}"})
    assert_challenge(response, 401, "invalid_token")
    assert deployment.verifier.calls == [token]
    assert deployment.endpoint.seen == []


async def test_resource_is_compared_as_a_url(deployment: Deployment) -> None:
    token = "same-resource-other-spelling"  # upper-case scheme and host, default port, trailing slash
    response = await deployment.client.post("/mcp", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_missing_scope_gets_a_403_naming_the_required_scopes(deployment: Deployment) -> None:
    response = await deployment.client.post("/mcp", headers={"Authorization": "Bearer read-only"})
    body = assert_challenge(response, 403, "insufficient_scope")
    assert body["error_description"] == "Missing scope: oscal:write"
    assert deployment.endpoint.seen == []
    assert [(a.client_id, missing) for a, missing in deployment.denied] == [("client-read-only", ["oscal:write"])]


async def test_valid_token_reaches_the_endpoint_with_the_caller_in_context(deployment: Deployment) -> None:
    response = await deployment.client.post("/mcp", headers={"Authorization": "bearer good"})  # scheme: any case
    assert response.status_code == 200
    assert response.json() == {"client_id": "client-good"}
    [(token, user, auth)] = deployment.endpoint.seen
    assert token == VERIFIER_TOKENS["good"]
    assert isinstance(user, AuthenticatedUser) and user.access_token == token
    assert list(getattr(auth, "scopes", [])) == list(SCOPES)
    assert deployment.denied == []
    assert get_access_token() is None  # the context is the request's only


async def test_metadata_is_public_and_names_the_resource(deployment: Deployment) -> None:
    response = await deployment.client.get("/.well-known/oauth-protected-resource/mcp")
    assert response.status_code == 200
    document = response.json()
    assert document["resource"] == RESOURCE
    assert document["authorization_servers"] == [ISSUER]  # path-less issuer: exactly as configured
    assert document["scopes_supported"] == list(SCOPES)
    assert document["bearer_methods_supported"] == ["header"]
    assert deployment.verifier.calls == []


async def test_only_the_protected_path_costs_a_verification(deployment: Deployment) -> None:
    response = await deployment.client.post("/other", headers={"Authorization": "Bearer good"})
    assert response.status_code == 404
    assert deployment.verifier.calls == []


async def test_without_an_issuer_there_is_no_metadata_and_no_pointer_to_it() -> None:
    async for made in _deployment(ProtectedResource(RESOURCE)):
        assert (await made.client.get("/.well-known/oauth-protected-resource/mcp")).status_code == 404
        response = await made.client.post("/mcp")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert (await made.client.post("/mcp", headers={"Authorization": "Bearer read-only"})).status_code == 200


async def test_lifespan_passes_through_bearer_auth() -> None:
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        events.append(scope["type"])

    await BearerAuth(app, FakeVerifier({}), ProtectedResource(RESOURCE))({"type": "lifespan"}, _no_receive, _no_send)
    assert events == ["lifespan"]


async def _no_receive() -> dict[str, object]:
    raise AssertionError("not expected")


async def _no_send(message: object) -> None:
    raise AssertionError("not expected")


def _scope(headers: list[tuple[bytes, bytes]], query: bytes = b"") -> Scope:
    return {"type": "http", "headers": headers, "query_string": query}


def test_read_authorization_outcomes() -> None:
    assert read_authorization(_scope([])) is None
    bearer = read_authorization(_scope([(b"authorization", b"Bearer abc.DEF-_~+/==")]))
    assert bearer == Presented("Bearer", "abc.DEF-_~+/==")
    assert read_authorization(_scope([(b"authorization", b"Digest x")])) is None
    assert read_authorization(_scope([(b"authorization", b"DPoP abc")])) is None  # DPoP not accepted here
    assert read_authorization(_scope([(b"authorization", b"dpop abc")]), dpop=True) == Presented("DPoP", "abc")
    refused = read_authorization(_scope([(b"authorization", b"Bearer a b")]))
    assert isinstance(refused, BearerError) and refused.error == "invalid_token"
    in_query = read_authorization(_scope([], b"x=1&access_token=abc"))
    assert isinstance(in_query, BearerError) and (in_query.status, in_query.error) == (400, "invalid_request")
    encoded = read_authorization(_scope([], b"%61ccess%5Ftoken=abc"))  # the name is compared decoded
    assert isinstance(encoded, BearerError) and (encoded.status, encoded.error) == (400, "invalid_request")
