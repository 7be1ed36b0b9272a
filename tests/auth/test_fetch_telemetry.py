"""What a discovery and a JWKS fetch report to telemetry plugins: one span named for the fetch with
the issuer and its outcome word, and one ``oscal_auth_fetched`` call with kind, issuer, outcome
and a duration. Checked here with an in-process recorder (tests/e2e/test_traces.py checks real
OpenTelemetry export)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import respx

from oscal_mcp_auth import hookimpl
from oscal_mcp_auth.discovery import EndpointResolver
from oscal_mcp_auth.hooks import create_plugin_manager, register_plugin
from oscal_mcp_auth.http import FetchError
from oscal_mcp_auth.jwks import JwksCache
from oscal_mcp_auth.telemetry import Telemetry, installed
from tests.auth.keys import public_keys
from tests.auth.test_introspection import ENDPOINT, TOKEN, active, auth_server, make_verifier, rejection

pytestmark = pytest.mark.anyio
ISSUER = "https://as.example.com"
JWKS_URI = f"{ISSUER}/jwks"
__all__ = ["auth_server"]  # the fixture, imported for the introspection test


class Span:
    def __init__(self) -> None:
        self.attributes: dict[str, Any] = {}

    def set_attribute(self, name: str, value: Any) -> None:
        self.attributes[name] = value


class Recorder:
    def __init__(self) -> None:
        self.spans: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.fetches: list[tuple[str, str, str, float]] = []

    @hookimpl
    def oscal_auth_fetched(self, kind: str, issuer: str, outcome: str, seconds: float) -> None:
        self.fetches.append((kind, issuer, outcome, seconds))

    @hookimpl
    def oscal_auth_span(self, name: str, attributes: dict[str, Any]) -> Any:
        @contextmanager
        def recorded() -> Iterator[Span]:
            span = Span()
            try:
                yield span
            finally:
                self.spans.append((name, attributes, span.attributes))

        return recorded()


def authorization_server(*, metadata: bool, keys: bool) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/jwks":
            return httpx.Response(200, json=public_keys()) if keys else httpx.Response(503, json={})
        if metadata and request.url.path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": JWKS_URI})
        return httpx.Response(404, json={})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


def recorded_telemetry() -> tuple[Recorder, Telemetry]:
    recorder = Recorder()
    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, recorder, "recorder")
    return recorder, Telemetry(manager.hook)


def durations_are_plausible(recorder: Recorder) -> bool:
    return all(0 <= seconds < 60 for *_, seconds in recorder.fetches)


async def test_a_discovery_reports_one_span_and_one_fetch_with_its_outcome() -> None:
    recorder, telemetry = recorded_telemetry()
    async with (
        authorization_server(metadata=True, keys=True) as up,
        authorization_server(metadata=False, keys=True) as down,
    ):
        with installed(telemetry):
            found = EndpointResolver(up, ISSUER, "jwks_uri")
            missing = EndpointResolver(down, ISSUER, "jwks_uri")
        assert await found.resolve() == JWKS_URI
        with pytest.raises(FetchError, match=r"^no_metadata: "):
            await missing.resolve()
    assert recorder.spans == [
        ("oscal_auth.discovery", {"issuer": ISSUER}, {"oscal_auth.outcome": "ok"}),
        ("oscal_auth.discovery", {"issuer": ISSUER}, {"oscal_auth.outcome": "no_metadata"}),
    ]
    assert [fetch[:3] for fetch in recorder.fetches] == [
        ("discovery", ISSUER, "ok"),
        ("discovery", ISSUER, "no_metadata"),
    ]
    assert durations_are_plausible(recorder)


async def test_a_key_set_fetch_reports_one_span_and_one_fetch_with_its_outcome() -> None:
    recorder, telemetry = recorded_telemetry()

    async def uri() -> str:
        return JWKS_URI

    async with (
        authorization_server(metadata=True, keys=True) as up,
        authorization_server(metadata=True, keys=False) as down,
    ):
        with installed(telemetry):
            good = JwksCache(up, uri, allowed_algorithms=("RS256",), issuer=ISSUER)
            bad = JwksCache(down, uri, allowed_algorithms=("RS256",), issuer=ISSUER)
        assert await good.find("rs-1", "RS256") is not None
        with pytest.raises(FetchError, match="503"):
            await bad.find("rs-1", "RS256")
    assert recorder.spans == [
        ("oscal_auth.jwks", {"issuer": ISSUER}, {"oscal_auth.outcome": "ok"}),
        ("oscal_auth.jwks", {"issuer": ISSUER}, {"oscal_auth.outcome": "bad_status"}),
    ]
    assert [fetch[:3] for fetch in recorder.fetches] == [("jwks", ISSUER, "ok"), ("jwks", ISSUER, "bad_status")]
    assert durations_are_plausible(recorder)


async def test_an_introspection_reports_one_span_and_one_fetch_with_its_outcome(auth_server: respx.MockRouter) -> None:
    recorder, telemetry = recorded_telemetry()
    with installed(telemetry):
        verifier = make_verifier(cache_seconds="0", inactive_cache_seconds="0")
    issuer = verifier.issuer
    assert issuer  # the test configuration names one, so the span and the fetch carry it
    route = auth_server.post(ENDPOINT)
    route.respond(json=active())
    await verifier.verify_token(TOKEN)
    route.respond(json={"active": False})
    await rejection(verifier)
    assert recorder.spans == [
        ("oscal_auth.introspection", {"issuer": issuer}, {"oscal_auth.outcome": "ok"}),
        ("oscal_auth.introspection", {"issuer": issuer}, {"oscal_auth.outcome": "inactive"}),
    ]
    assert [fetch[:3] for fetch in recorder.fetches] == [
        ("introspection", issuer, "ok"),
        ("introspection", issuer, "inactive"),
    ]
    assert durations_are_plausible(recorder)


async def test_a_discovery_without_an_issuer_reports_an_empty_issuer() -> None:
    recorder, telemetry = recorded_telemetry()
    async with authorization_server(metadata=True, keys=True) as client:
        with installed(telemetry):
            nowhere = EndpointResolver(client, None, "jwks_uri")
        with pytest.raises(FetchError, match=r"^no_endpoint: "):
            await nowhere.resolve()
    assert recorder.spans == [("oscal_auth.discovery", {"issuer": ""}, {"oscal_auth.outcome": "no_endpoint"})]
    assert [fetch[:3] for fetch in recorder.fetches] == [("discovery", "", "no_endpoint")]
