"""What `BearerAuth` hands the audit trail: the decision's fields on the log records of the refusals
it makes itself (malformed token, Bearer where DPoP is required, a token for another resource),
the session id's hash for every record of a request, and telemetry taken from the verifier."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from oscal_mcp_auth import BearerAuth, ProtectedResource, hookimpl
from oscal_mcp_auth.dpop import DPoPPolicy
from oscal_mcp_auth.hooks import create_plugin_manager, register_plugin
from oscal_mcp_auth.jws import fingerprint
from oscal_mcp_auth.logsafe import AUDIT_ATTRIBUTE, REQUEST_FIELDS, session_id_hash
from oscal_mcp_auth.telemetry import Telemetry
from tests.auth.dpop_fakes import FakeBindingVerifier
from tests.auth.test_asgi import ISSUER, RESOURCE, SCOPES, VERIFIER_TOKENS, FakeVerifier

pytestmark = pytest.mark.anyio


class FieldsEndpoint:
    """Records the request fields every log record of the request carries."""

    def __init__(self) -> None:
        self.fields: list[object] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.fields.append(REQUEST_FIELDS.get())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


class RequestRecorder:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    @hookimpl
    def oscal_auth_request(self, outcome: str, reason: str) -> None:
        self.requests.append((outcome, reason))


def recording_telemetry() -> tuple[Telemetry, RequestRecorder]:
    recorder = RequestRecorder()
    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, recorder, "recorder")
    return Telemetry(manager.hook), recorder


async def client_for(guarded: BearerAuth) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=Starlette(routes=[Route("/mcp", guarded)]))
    async with httpx.AsyncClient(transport=transport, base_url="https://mcp.example.com") as client:
        yield client


def audit_of(caplog: pytest.LogCaptureFixture, message_start: str) -> dict[str, Any]:
    (record,) = [r for r in caplog.records if r.getMessage().startswith(message_start)]
    fields: dict[str, Any] = getattr(record, AUDIT_ATTRIBUTE)
    return fields


@pytest.fixture
async def bearer() -> AsyncIterator[tuple[httpx.AsyncClient, FieldsEndpoint]]:
    endpoint = FieldsEndpoint()
    resource = ProtectedResource(RESOURCE, authorization_servers=(ISSUER,), required_scopes=SCOPES)
    async for client in client_for(BearerAuth(endpoint, FakeVerifier(dict(VERIFIER_TOKENS)), resource)):
        yield client, endpoint


async def test_a_malformed_token_is_audited_as_such(
    bearer: tuple[httpx.AsyncClient, FieldsEndpoint], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        await bearer[0].post("/mcp", headers={"authorization": "Bearer not a token"})
    audit = audit_of(caplog, "token rejected: reason=malformed_token length=11")
    assert audit == {"outcome": "reject", "reason": "malformed_token"}


async def test_a_token_for_another_resource_is_audited_with_its_identity(
    bearer: tuple[httpx.AsyncClient, FieldsEndpoint], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        await bearer[0].post("/mcp", headers={"authorization": "Bearer other-resource"})
    audit = audit_of(caplog, "token rejected: reason=wrong_resource client_id='client-other-resource'")
    assert audit == {
        "outcome": "reject", "reason": "wrong_resource", "client_id": "client-other-resource",
        "scopes": list(SCOPES),
    }  # fmt: skip


async def test_every_request_carries_the_hash_of_its_session_id(
    bearer: tuple[httpx.AsyncClient, FieldsEndpoint],
) -> None:
    client, endpoint = bearer
    await client.post("/mcp", headers={"authorization": "Bearer good", "mcp-session-id": "session-1"})
    await client.post("/mcp", headers={"authorization": "Bearer good"})
    assert endpoint.fields == [{"session_id_hash": session_id_hash("session-1")}, None]


async def test_bearer_where_dpop_is_required_is_audited_and_reported_as_dpop_required(
    caplog: pytest.LogCaptureFixture,
) -> None:
    telemetry, recorder = recording_telemetry()
    resource = ProtectedResource(RESOURCE, (ISSUER,), ("oscal:read",), dpop=DPoPPolicy(required=True))
    guarded = BearerAuth(FieldsEndpoint(), FakeBindingVerifier({}, {"plain"}), resource, telemetry=telemetry)
    async for client in client_for(guarded):
        with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
            await client.post("/mcp", headers={"authorization": "Bearer plain"})
    audit = audit_of(caplog, f"token rejected: reason=dpop_required token_id={fingerprint('plain')}")
    assert audit == {"outcome": "reject", "reason": "dpop_required", "token_id": fingerprint("plain")}
    assert recorder.requests == [("reject", "dpop_required")]


class VerifierWithTelemetry(FakeVerifier):
    """A verifier that brings its hooks' telemetry, as `VerificationPipeline` does."""

    telemetry: Telemetry


async def test_without_its_own_telemetry_bearer_auth_reports_to_the_verifiers() -> None:
    telemetry, recorder = recording_telemetry()
    verifier = VerifierWithTelemetry(dict(VERIFIER_TOKENS))
    verifier.telemetry = telemetry
    resource = ProtectedResource(RESOURCE, authorization_servers=(ISSUER,), required_scopes=SCOPES)
    async for client in client_for(BearerAuth(FieldsEndpoint(), verifier, resource)):
        await client.post("/mcp", headers={"authorization": "Bearer good"})
    assert recorder.requests == [("accept", "ok")]
