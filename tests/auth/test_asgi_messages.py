"""`BearerAuth` seen from the verifier, the log and the raw ASGI messages: what a refused proof tells
the verifier's audit, what a wrong-resource refusal logs, and the headers it adds to an answer."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from mcp.server.auth.provider import AccessToken
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from oscal_mcp_auth import BearerAuth, ConfigurationError, ProtectedResource, protect
from oscal_mcp_auth.asgi import MAX_TOKEN_LENGTH, Presented, read_authorization
from oscal_mcp_auth.cache import cache_key
from oscal_mcp_auth.challenge import BearerError
from oscal_mcp_auth.dpop import DPoPPolicy
from oscal_mcp_auth.dpop_nonce import NonceIssuer
from oscal_mcp_auth.replay import ReplayCache
from tests.asgi_calls import sent_messages
from tests.auth.dpop_fakes import ISSUER, KEY, RESOURCE, Endpoint, FakeBindingVerifier
from tests.auth.test_asgi_dpop import DownStore

pytestmark = pytest.mark.anyio


class Verifier:
    """A Bearer `TokenVerifier` answering every token with the one `AccessToken` it was given."""

    def __init__(self, access: AccessToken) -> None:
        self.access = access

    async def verify_token(self, token: str) -> AccessToken | None:
        return self.access


async def call(app: Any, headers: dict[str, str]) -> list[Message]:
    """One POST /mcp straight through the ASGI interface; the messages the app sent."""
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "scheme": "http",
        "server": ("10.0.0.5", 80),
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }
    return await sent_messages(app, scope)


def dpop_headers(token: str = "bound", nonce: str | None = None) -> dict[str, str]:  # noqa: S107
    claims = {"nonce": nonce} if nonce else None
    return {"Authorization": f"DPoP {token}", "DPoP": KEY.proof("POST", RESOURCE, access_token=token, claims=claims)}


async def test_every_missing_scope_is_named_in_the_403_description() -> None:
    resource = ProtectedResource(RESOURCE, (ISSUER,), ("oscal:read", "oscal:write"))
    none = AccessToken(token="t", client_id="c", scopes=[], resource=RESOURCE)
    app = Starlette(routes=protect(Endpoint(), Verifier(none), resource))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client:
        response = await client.post("/mcp", headers={"Authorization": "Bearer t"})
    assert response.status_code == 403
    assert response.json()["error_description"] == "Missing scope: oscal:read oscal:write"


async def test_a_token_for_another_resource_is_logged_with_its_client_id(caplog: pytest.LogCaptureFixture) -> None:
    other = AccessToken(token="t", client_id="client\nforged", scopes=[], resource="https://other.example/mcp")
    app = BearerAuth(Endpoint(), Verifier(other), ProtectedResource(RESOURCE))
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        sent = await call(app, {"Authorization": "Bearer t"})
    assert sent[0]["status"] == 401
    assert "token rejected: reason=wrong_resource client_id='client\\nforged'" in caplog.messages


async def test_a_refused_proof_tells_the_verifier_the_token_the_reason_and_the_detail() -> None:
    verifier = FakeBindingVerifier({"bound": KEY.thumbprint}, set())
    app = BearerAuth(Endpoint(), verifier, ProtectedResource(RESOURCE, dpop=DPoPPolicy()))
    await call(app, {"Authorization": "DPoP bound", "DPoP": KEY.proof("POST", RESOURCE, access_token="other")})
    replayed = dpop_headers()
    assert (await call(app, replayed))[0]["status"] == 200
    await call(app, replayed)
    (token, reason, detail), replay = verifier.told
    assert (token, reason) == ("bound", "dpop_ath") and "ath" in detail
    assert replay == ("bound", "dpop_replay", "this proof's jti was used before (RFC 9449 section 11.1)")


async def test_an_unreachable_replay_cache_tells_the_verifier_why() -> None:
    verifier = FakeBindingVerifier({"bound": KEY.thumbprint}, set())
    resource = ProtectedResource(RESOURCE, dpop=DPoPPolicy())
    app = BearerAuth(Endpoint(), verifier, resource, replay=ReplayCache(shared=DownStore()))
    assert (await call(app, dpop_headers()))[0]["status"] == 503
    assert verifier.told == [("bound", "replay_cache_unavailable", "the shared replay cache (redis) cannot be reached")]


async def test_the_nonce_header_is_added_in_lower_case_and_keeps_the_endpoints_headers() -> None:
    """ASGI header names are lower-case bytes; the endpoint's own headers stay in the answer."""
    issuer = NonceIssuer()
    verifier = FakeBindingVerifier({"bound": KEY.thumbprint}, set())
    app = BearerAuth(Endpoint(), verifier, ProtectedResource(RESOURCE, dpop=DPoPPolicy()), nonces=issuer)
    refused = (await call(app, dpop_headers()))[0]
    assert (refused["status"], (b"dpop-nonce", issuer.current().encode()) in refused["headers"]) == (401, True)
    accepted = (await call(app, dpop_headers(nonce=issuer.current())))[0]
    assert accepted["status"] == 200
    assert accepted["headers"] == [(b"content-type", b"text/plain"), (b"dpop-nonce", issuer.current().encode())]


async def test_an_endpoint_answer_without_headers_still_gets_the_nonce() -> None:
    async def bare(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body", "body": b""})

    issuer = NonceIssuer()
    verifier = FakeBindingVerifier({"bound": KEY.thumbprint}, set())
    app = BearerAuth(bare, verifier, ProtectedResource(RESOURCE, dpop=DPoPPolicy()), nonces=issuer)
    start = (await call(app, dpop_headers(nonce=issuer.current())))[0]
    assert (start["status"], start["headers"]) == (204, [(b"dpop-nonce", issuer.current().encode())])


def read(value: str, *, dpop: bool = False) -> Presented | BearerError | None:
    return read_authorization({"type": "http", "headers": [(b"authorization", value.encode())]}, dpop=dpop)


def test_spaces_after_the_scheme_are_skipped_and_the_token_kept_whole() -> None:
    assert read("Bearer   XYZ") == Presented("Bearer", "XYZ")


def test_a_tab_is_no_separator_between_scheme_and_token() -> None:
    """RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token."""
    refused = read("Bearer \tabc")
    assert isinstance(refused, BearerError) and (refused.status, refused.error) == (401, "invalid_token")


def test_an_empty_token_is_a_400_naming_the_scheme_used() -> None:
    for scheme in ("Bearer", "DPoP"):
        refused = read(f"{scheme}   ", dpop=True)
        assert isinstance(refused, BearerError)
        assert (refused.status, refused.error, refused.scheme) == (400, "invalid_request", scheme)
        assert refused.description == f"The {scheme} scheme needs a token"


def test_a_malformed_dpop_token_is_refused_on_the_dpop_challenge(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        refused = read("DPoP a%b", dpop=True)
    assert isinstance(refused, BearerError) and (refused.error, refused.scheme) == ("invalid_token", "DPoP")
    assert caplog.messages == ["token rejected: reason=malformed_token length=3"]


def test_a_token_of_exactly_the_maximum_length_is_read() -> None:
    token = "a" * MAX_TOKEN_LENGTH
    assert read(f"Bearer {token}") == Presented("Bearer", token)
    assert isinstance(read(f"Bearer {token}a"), BearerError)


async def test_a_dpop_only_resource_logs_a_bearer_token_by_its_id(caplog: pytest.LogCaptureFixture) -> None:
    verifier = FakeBindingVerifier({}, {"plain"})
    app = BearerAuth(Endpoint(), verifier, ProtectedResource(RESOURCE, dpop=DPoPPolicy(required=True)))
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        sent = await call(app, {"Authorization": "Bearer plain"})
    assert sent[0]["status"] == 401
    assert caplog.messages == [f"token rejected: reason=dpop_required token_id={cache_key('plain')[:16]}"]


async def test_a_dpop_resource_names_the_verifier_that_cannot_check_binding() -> None:
    with pytest.raises(ConfigurationError, match=r"; Verifier does not$"):
        BearerAuth(
            Endpoint(),
            Verifier(AccessToken(token="t", client_id="c", scopes=[])),
            ProtectedResource(RESOURCE, dpop=DPoPPolicy()),
        )


async def test_lifespan_messages_pass_both_ways_untouched() -> None:
    received: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        received.append(await receive())
        await send({"type": "lifespan.startup.complete"})

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    await BearerAuth(app, Verifier(AccessToken(token="t", client_id="c", scopes=[])), ProtectedResource(RESOURCE))(
        {"type": "lifespan"}, receive, send
    )
    assert (received, sent) == ([{"type": "lifespan.startup"}], [{"type": "lifespan.startup.complete"}])


async def test_a_websocket_is_closed_with_policy_violation_before_the_endpoint() -> None:
    """No challenge can be sent on a websocket: it is closed with 1008 (RFC 6455 section 7.4.1)."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    endpoint = Endpoint()
    verifier = Verifier(AccessToken(token="t", client_id="c", scopes=[], resource=RESOURCE))
    await BearerAuth(endpoint, verifier, ProtectedResource(RESOURCE))(
        {"type": "websocket", "headers": [(b"authorization", b"Bearer t")]}, _never, send
    )
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def _never() -> Message:
    raise AssertionError("a refused websocket is not read")


def test_a_query_string_without_an_access_token_leaves_the_header_to_decide() -> None:
    scope = {"type": "http", "headers": [(b"authorization", b"Bearer abc")], "query_string": b"x=1"}
    assert read_authorization(scope) == Presented("Bearer", "abc")
