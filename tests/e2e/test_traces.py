"""Traces from a real export: the server (jwt verifier against the real Authorization Server)
sends OTLP/HTTP to a local receiver; the spans have the expected names, attributes and parents,
continue the caller's trace, and hold no token."""

from __future__ import annotations

import pytest

from tests.e2e.clients import bearer, post_initialize
from tests.e2e.otlp_receiver import OtlpReceiver
from tests.e2e.stacks import jwt_stack

pytestmark = [pytest.mark.e2e]

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def test_spans_nest_from_the_callers_trace_to_the_jwks_fetch_and_hold_no_token() -> None:
    with OtlpReceiver() as receiver:
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_SERVICE_NAME": "oscal-mcp-under-test",
        }
        with jwt_stack(env) as stack:
            token = stack.token()
            traced = {**bearer(token), "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"}
            assert post_initialize(stack.server.url, traced).status_code == 200
            assert post_initialize(stack.server.url, bearer("not@a-token")).status_code == 401
            verify = receiver.wait_for("oscal_auth.verify")[0]
            jwks = receiver.wait_for("oscal_auth.jwks")[0]
            discovery = receiver.wait_for("oscal_auth.discovery")[0]
            request = next(s for s in receiver.wait_for("POST /mcp") if s.trace_id == TRACE_ID)
            initialize = receiver.wait_for("initialize")[0]
            issuer = stack.auth.issuer
        # the server stopped: everything batched was exported at shutdown

    assert request.parent_span_id == CALLER_SPAN and request.service == "oscal-mcp-under-test"
    assert request.attributes["http.response.status_code"] == 200
    assert verify.trace_id == TRACE_ID and verify.parent_span_id == request.span_id
    assert verify.attributes == {
        "oscal_auth.verifier": "jwt",
        "oscal_auth.outcome": "accept",
        "oscal_auth.reason": "ok",
        "oscal_auth.issuer": issuer,
    }
    assert jwks.parent_span_id == verify.span_id and jwks.trace_id == TRACE_ID
    assert jwks.attributes == {"oscal_auth.issuer": issuer, "oscal_auth.outcome": "ok"}
    assert discovery.parent_span_id == jwks.span_id and discovery.attributes["oscal_auth.outcome"] == "ok"
    assert initialize.attributes["mcp.method.name"] == "initialize"
    assert initialize.trace_id == TRACE_ID and initialize.parent_span_id == request.span_id

    malformed = [s for s in receiver.spans if s.name == "POST /mcp" and s.trace_id != TRACE_ID]
    assert malformed and malformed[0].attributes["http.response.status_code"] == 401
    everything = b"".join(receiver.bodies)
    assert token.encode() not in everything and token.split(".")[2].encode() not in everything
    assert b"not@a-token" not in everything
