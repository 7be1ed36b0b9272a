"""The telemetry hooks reach the components a backend builds (through `installed`), report cache
layers and shared-store errors, and can never change a decision: a raising implementation is
logged and ignored."""

from __future__ import annotations

import contextvars
import time

import pytest
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig, hookimpl
from oscal_mcp_auth.cache import Codec, MemoryCache, TieredCache
from oscal_mcp_auth.hooks import create_plugin_manager, register_plugin
from oscal_mcp_auth.redis_cache import RedisStore
from oscal_mcp_auth.telemetry import NO_TELEMETRY, Telemetry, current_telemetry, installed
from oscal_mcp_auth.telemetry.relay import NO_SPAN, note_rejection, noted_rejection, take_rejection
from oscal_mcp_auth.verifier import VerificationPipeline

pytestmark = pytest.mark.anyio
SECRET = b"s" * 32
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # port 1 on loopback: connection refused at once


class Recorder:
    def __init__(self) -> None:
        self.lookups: list[tuple[str, bool]] = []
        self.store_errors: list[str] = []

    @hookimpl
    def oscal_auth_cache_lookup(self, layer: str, hit: bool) -> None:
        self.lookups.append((layer, hit))

    @hookimpl
    def oscal_auth_store_error(self, store: str) -> None:
        self.store_errors.append(store)


class Broken:
    @hookimpl
    def oscal_auth_verified(self, verifier: str) -> None:
        raise RuntimeError("a metrics backend fell over")


def telemetry_with(plugin: object) -> Telemetry:
    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, plugin, "recorder")
    return Telemetry(manager.hook)


def test_components_built_outside_a_verifier_report_nowhere() -> None:
    assert current_telemetry() is NO_TELEMETRY


async def test_a_shared_store_error_and_both_cache_layers_are_reported() -> None:
    recorder = Recorder()
    telemetry = telemetry_with(recorder)
    with installed(telemetry):
        cache: TieredCache[str] = TieredCache(MemoryCache(), RedisStore(CLOSED_PORT_URL, "t:", SECRET), Codec(str, str))
    assert current_telemetry() is NO_TELEMETRY  # only while the block runs
    assert await cache.get("k") is None
    cache.local.set_now("k", "v", 60)
    assert await cache.get("k") == "v"
    assert recorder.lookups == [("local", False), ("shared", False), ("local", True)]
    assert recorder.store_errors == ["redis"]
    await cache.aclose()


async def test_a_raising_telemetry_plugin_cannot_change_a_decision(caplog: pytest.LogCaptureFixture) -> None:
    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, Broken(), "broken")

    class Accepting:
        async def verify_token(self, token: str) -> AccessToken | None:
            return AccessToken(token=token, client_id="c", scopes=[], expires_at=int(time.time()) + 60)

    pipeline = VerificationPipeline(Accepting(), AuthConfig(verifier="fake"), manager, name="fake")
    assert await pipeline.verify_token("tok") is not None
    assert "hook oscal_auth_verified raised RuntimeError; ignored" in caplog.messages


def test_the_relay_knows_every_telemetry_hookspec_and_nothing_else() -> None:
    from oscal_mcp_auth.telemetry.relay import HOOK_NAMES
    from oscal_mcp_auth.telemetry.specs import TelemetryHookSpecs

    specified = {name for name in vars(TelemetryHookSpecs) if name.startswith("oscal_auth_")}
    assert set(HOOK_NAMES) == specified


def test_without_telemetry_plugins_the_relay_is_inactive() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    assert not Telemetry(manager.hook).active and not NO_TELEMETRY.active
    register_plugin(manager, Recorder(), "recorder")
    telemetry = Telemetry(manager.hook)
    assert telemetry.active and telemetry.listens("oscal_auth_cache_lookup")
    assert not telemetry.listens("oscal_auth_span")


class DecisionRecorder:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.verifications: list[tuple[str, str, str, float]] = []

    @hookimpl
    def oscal_auth_request(self, outcome: str, reason: str) -> None:
        self.requests.append((outcome, reason))

    @hookimpl
    def oscal_auth_verified(self, verifier: str, outcome: str, reason: str, seconds: float) -> None:
        self.verifications.append((verifier, outcome, reason, seconds))


def test_request_and_verification_outcomes_reach_the_plugins_with_every_field() -> None:
    recorder = DecisionRecorder()
    telemetry = telemetry_with(recorder)
    telemetry.request("reject", "expired")
    telemetry.verified("jwt", "reject", "bad_signature", 0.25)
    assert recorder.requests == [("reject", "expired")]
    assert recorder.verifications == [("jwt", "reject", "bad_signature", 0.25)]


def test_a_noted_refusal_is_read_until_it_is_taken_once() -> None:
    """BearerAuth reports the reason a backend noted for this request, then forgets it."""

    def in_one_request() -> list[str | None]:
        take_rejection()  # whatever an earlier test noted in this thread's context
        seen = [take_rejection()]
        note_rejection("expired")
        seen += [noted_rejection(), noted_rejection(), take_rejection(), take_rejection(), noted_rejection()]
        return seen

    assert contextvars.copy_context().run(in_one_request) == [None, "expired", "expired", "expired", None, None]


class RaisingSpans:
    @hookimpl
    def oscal_auth_span(self, name: str, attributes: dict[str, object]) -> object:
        raise RuntimeError("the tracer fell over")


class NoSpans:
    @hookimpl
    def oscal_auth_span(self, name: str, attributes: dict[str, object]) -> object:
        return None


def test_a_span_plugin_that_raises_is_logged_and_the_work_runs_without_a_span(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with telemetry_with(RaisingSpans()).span("oscal_auth.verify", verifier="jwt") as span:
        span.set_attribute("oscal_auth.outcome", "accept")
    assert span is NO_SPAN
    assert "hook oscal_auth_span raised RuntimeError; ignored" in caplog.messages


def test_a_span_plugin_that_offers_no_span_leaves_the_work_without_one() -> None:
    with telemetry_with(NoSpans()).span("oscal_auth.verify") as span:
        span.set_attribute("oscal_auth.outcome", "accept")
    assert span is NO_SPAN
