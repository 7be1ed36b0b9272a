"""What `BearerAuth` reports to telemetry plugins for each request: the outcome and the reason
word, the one a component noted for this request or else one named for the refusal, and never a
reason left over from an earlier request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from mcp.server.auth.provider import AccessToken
from starlette.applications import Starlette
from starlette.routing import Route

from oscal_mcp_auth import BearerAuth, ProtectedResource, hookimpl
from oscal_mcp_auth.hooks import create_plugin_manager, register_plugin
from oscal_mcp_auth.telemetry import Telemetry
from oscal_mcp_auth.telemetry.relay import note_rejection
from tests.auth.test_asgi import ISSUER, RESOURCE, SCOPES, VERIFIER_TOKENS, Endpoint, FakeVerifier

pytestmark = pytest.mark.anyio


class RequestRecorder:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    @hookimpl
    def oscal_auth_request(self, outcome: str, reason: str) -> None:
        self.requests.append((outcome, reason))


class NotingVerifier(FakeVerifier):
    """Notes a reason for the tokens it refuses, as the verification pipeline does."""

    async def verify_token(self, token: str) -> AccessToken | None:
        found = await super().verify_token(token)
        if found is None and token == "expired":
            note_rejection("expired")
        return found


@pytest.fixture
async def reported() -> AsyncIterator[tuple[httpx.AsyncClient, RequestRecorder]]:
    recorder = RequestRecorder()
    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, recorder, "recorder")
    resource = ProtectedResource(RESOURCE, authorization_servers=(ISSUER,), required_scopes=SCOPES)
    guarded = BearerAuth(Endpoint(), NotingVerifier(dict(VERIFIER_TOKENS)), resource, telemetry=Telemetry(manager.hook))
    transport = httpx.ASGITransport(app=Starlette(routes=[Route("/mcp", guarded)]))
    async with httpx.AsyncClient(transport=transport, base_url="https://mcp.example.com") as client:
        yield client, recorder


@pytest.mark.parametrize(
    ("headers", "url", "reported_as"),
    [
        ({"authorization": "Bearer good"}, "/mcp", ("accept", "ok")),
        ({}, "/mcp", ("reject", "no_credentials")),
        ({}, "/mcp?access_token=abc", ("reject", "token_in_query")),
        ({"authorization": "Bearer "}, "/mcp", ("reject", "invalid_request")),
        ({"authorization": "Bearer not a token"}, "/mcp", ("reject", "malformed_token")),
        ({"authorization": "Bearer unknown"}, "/mcp", ("reject", "invalid_token")),
        ({"authorization": "Bearer expired"}, "/mcp", ("reject", "expired")),
        ({"authorization": "Bearer other-resource"}, "/mcp", ("reject", "wrong_resource")),
        ({"authorization": "Bearer read-only"}, "/mcp", ("reject", "insufficient_scope")),
    ],
)
async def test_each_request_is_reported_with_its_outcome_and_reason(
    reported: tuple[httpx.AsyncClient, RequestRecorder], headers: dict[str, str], url: str, reported_as: tuple[str, str]
) -> None:
    client, recorder = reported
    await client.post(url, headers=headers)
    assert recorder.requests == [reported_as]


async def test_a_reason_noted_for_an_earlier_request_is_not_reported_again(
    reported: tuple[httpx.AsyncClient, RequestRecorder],
) -> None:
    client, recorder = reported
    note_rejection("expired")  # left over in this task, as from an earlier request
    await client.post("/mcp")
    assert recorder.requests == [("reject", "no_credentials")]
