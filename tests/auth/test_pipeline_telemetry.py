"""What the verification pipeline reports beside its decision: the verify span's attributes and the
``oscal_auth_verified`` call, the audit fields of a rejection's log record, the readiness check's
log line, whether tokens can be bound, and the built-in metrics and tracing plugins."""

from __future__ import annotations

import base64
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig, ConfigurationError, TokenRejected, hookimpl
from oscal_mcp_auth.hooks import create_plugin_manager
from oscal_mcp_auth.logsafe import AUDIT_ATTRIBUTE
from oscal_mcp_auth.verifier import VerificationPipeline, load_verifier, metrics_plugin, token_id
from tests.auth.test_pipeline import FakeBackend

pytestmark = pytest.mark.anyio
ISSUER = "https://as.example.com"
CONFIG = AuthConfig(verifier="fake", issuer_url=ISSUER, issuer_urls=(ISSUER,))


class Span:
    def __init__(self, opened_with: dict[str, Any]) -> None:
        self.opened_with = opened_with
        self.attributes: dict[str, Any] = {}

    def set_attribute(self, name: str, value: Any) -> None:
        self.attributes[name] = value


class Tracer:
    """A telemetry plugin recording the verify spans and the verified calls."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Span]] = []
        self.verified: list[tuple[str, str, str, float]] = []

    @hookimpl
    def oscal_auth_span(self, name: str, attributes: dict[str, Any]) -> AbstractContextManager[Any] | None:
        @contextmanager
        def span() -> Iterator[Span]:
            recorded = Span(attributes)
            self.spans.append((name, recorded))
            yield recorded

        return span()

    @hookimpl
    def oscal_auth_verified(self, verifier: str, outcome: str, reason: str, seconds: float) -> None:
        self.verified.append((verifier, outcome, reason, seconds))


def traced(backend: Any, tracer: Tracer) -> VerificationPipeline:
    manager = create_plugin_manager(load_entry_points=False)
    manager.register(tracer)
    return VerificationPipeline(backend, CONFIG, manager, name="fake")


def access(issuer: str | None) -> AccessToken:
    claims = None if issuer is None else {"iss": issuer}
    return AccessToken(token="tok", client_id="c1", scopes=[], expires_at=int(time.time()) + 300, claims=claims)


async def test_an_accepted_token_is_traced_with_its_configured_issuer_and_timed() -> None:
    tracer = Tracer()
    assert await traced(FakeBackend(access(ISSUER)), tracer).verify_token("tok") is not None
    ((name, span),) = tracer.spans
    assert (name, span.opened_with) == ("oscal_auth.verify", {"verifier": "fake"})
    assert span.attributes == {"oscal_auth.outcome": "accept", "oscal_auth.reason": "ok", "oscal_auth.issuer": ISSUER}
    ((verifier, outcome, reason, seconds),) = tracer.verified
    assert (verifier, outcome, reason) == ("fake", "accept", "ok")
    assert 0 <= seconds < time.perf_counter()  # a duration, not a point on the clock


@pytest.mark.parametrize("issuer", ["https://other.example.com", None])
async def test_an_issuer_that_is_not_configured_never_becomes_a_span_attribute(issuer: str | None) -> None:
    tracer = Tracer()
    assert await traced(FakeBackend(access(issuer)), tracer).verify_token("tok") is not None
    ((_, span),) = tracer.spans
    assert span.attributes == {"oscal_auth.outcome": "accept", "oscal_auth.reason": "ok"}


async def test_a_rejection_is_traced_and_reported_with_its_reason() -> None:
    tracer = Tracer()
    assert await traced(FakeBackend(TokenRejected("bad_signature")), tracer).verify_token("tok") is None
    ((_, span),) = tracer.spans
    assert span.attributes == {"oscal_auth.outcome": "reject", "oscal_auth.reason": "bad_signature"}
    assert [call[:3] for call in tracer.verified] == [("fake", "reject", "bad_signature")]


async def test_a_rejections_log_record_carries_its_audit_fields(caplog: pytest.LogCaptureFixture) -> None:
    pipeline = traced(FakeBackend(TokenRejected("bad_signature", "kid=k1")), Tracer())
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        await pipeline.verify_token("tok")
    (record,) = caplog.records
    assert getattr(record, AUDIT_ATTRIBUTE) == {
        "outcome": "reject",
        "reason": "bad_signature",
        "verifier": "fake",
        "token_id": token_id("tok"),
    }


class RaisingReadiness(FakeBackend):
    async def ready(self) -> str | None:
        raise RuntimeError("the check fell over")


async def test_a_raising_readiness_check_is_logged_with_the_verifier_and_the_error_type(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await traced(RaisingReadiness(None), Tracer()).ready() == "verifier_error"
    assert caplog.messages == ["verifier fake readiness check raised RuntimeError"]


async def test_a_backend_that_does_not_say_otherwise_binds_tokens() -> None:
    assert traced(FakeBackend(None), Tracer()).binds_tokens is True


def test_without_prometheus_client_metrics_name_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "oscal_mcp_auth.telemetry.metrics", raising=False)
    with pytest.raises(ConfigurationError) as missing:
        metrics_plugin(object())
    assert str(missing.value) == (
        "metrics need the Python package 'prometheus-client' (prometheus_client), which is not installed; "
        "install it with: pip install 'oscal-mcp[metrics]'"
    )


class TracerProvider:
    """An OpenTelemetry-shaped tracer provider recording the tracer names asked for."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def get_tracer(self, name: str) -> Any:
        from opentelemetry.trace import NoOpTracer

        self.names.append(name)
        return NoOpTracer()


async def test_the_tracing_plugin_takes_the_librarys_own_tracer(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [{"client_id": "bot", "key_sha256": "a" * 64}]}))
    config = AuthConfig.from_mapping({"OSCAL_AUTH_VERIFIER": "static", "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys)})
    provider = TracerProvider()
    load_verifier(config, plugin_manager=create_plugin_manager(load_entry_points=False), tracer_provider=provider)
    assert provider.names == ["oscal_mcp_auth"]


async def test_a_refused_scopes_log_record_carries_the_caller_and_what_was_missing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caller = AccessToken(token="tok", client_id="c1", scopes=["s"], subject="u1", claims={"iss": ISSUER})
    with caplog.at_level(logging.INFO, logger="oscal_mcp_auth"):
        traced(FakeBackend(None), Tracer()).scope_denied(caller, ["oscal:write"])
    (record,) = caplog.records
    assert getattr(record, AUDIT_ATTRIBUTE) == {
        "outcome": "reject",
        "reason": "insufficient_scope",
        "verifier": "fake",
        "token_id": token_id("tok"),
        "missing": ["oscal:write"],
        "client_id": "c1",
        "subject": "u1",
        "issuer": ISSUER,
        "scopes": ["s"],
    }


P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def high_s_token() -> str:
    """An ES256 compact JWS whose signature has a high S (its twin, with S' = n - S, is the canonical
    spelling); nothing here checks the signature."""

    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signature = (1).to_bytes(32, "big") + (P256_ORDER - 1).to_bytes(32, "big")
    return ".".join((b64url(json.dumps({"alg": "ES256"}).encode()), b64url(b"{}"), b64url(signature)))


class CanonicalBackend(FakeBackend):
    canonical_tokens = True  # the jwt backend's promise: it spells its tokens canonically itself


@pytest.mark.parametrize(("backend", "respelled"), [(CanonicalBackend, False), (FakeBackend, True)])
async def test_only_a_backend_that_does_not_spell_canonically_has_its_tokens_respelled(
    backend: type[FakeBackend], respelled: bool
) -> None:
    token = high_s_token()
    given = AccessToken(token=token, client_id="c1", scopes=[], expires_at=int(time.time()) + 300)
    accepted = await traced(backend(given), Tracer()).verify_token(token)
    assert accepted is not None
    assert (accepted.token != token) is respelled
