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


def test_spans_continue_the_callers_trace_nest_down_to_the_jwks_fetch_and_hold_no_token() -> None:
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
            head, claims, signature = token.split(".")
            forged = f"{head}.{claims}.AAAA{signature[4:]}"
            assert post_initialize(stack.server.url, bearer(forged)).status_code == 401
            jwks = receiver.wait_for("oscal_auth.jwks")[0]
            discovery = receiver.wait_for("oscal_auth.discovery")[0]
            initialize = receiver.wait_for("initialize")[0]
            issuer = stack.auth.issuer
            receiver.wait_for_count("oscal_auth.verify", 2)
            verifications = receiver.wait_for("oscal_auth.verify")

    verify = next(span for span in verifications if span.trace_id == TRACE_ID)
    assert verify.parent_span_id == CALLER_SPAN and verify.service == "oscal-mcp-under-test"
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
    assert initialize.trace_id == TRACE_ID and initialize.parent_span_id == CALLER_SPAN

    refused = next(span for span in verifications if span.trace_id != TRACE_ID)  # no traceparent: a new trace
    assert refused.parent_span_id == "" and refused.attributes["oscal_auth.outcome"] == "reject"
    assert refused.attributes["oscal_auth.reason"] not in ("", "ok")
    everything = b"".join(receiver.bodies)
    for secret in (token, signature, forged, forged.split(".")[2]):
        assert secret.encode() not in everything
