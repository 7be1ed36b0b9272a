"""The built-in metrics plugin, registered through the same path as any hook plugin, records the
library's decisions into a registry the library user passes in."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from mcp.server.auth.provider import AccessToken
from prometheus_client import CollectorRegistry, generate_latest

from oscal_mcp_auth import AuthConfig
from oscal_mcp_auth.hooks import create_plugin_manager, register_plugin
from oscal_mcp_auth.telemetry.metrics import AuthMetrics
from oscal_mcp_auth.verifier import METRICS_PLUGIN, VerificationPipeline, load_verifier, metrics_plugin
from tests.server.http_helpers import READER_KEY, keys_file

pytestmark = pytest.mark.anyio
TOKEN = "secret-token-value-0123456789"


class Backend:
    def __init__(self, accept: bool) -> None:
        self.accept = accept

    async def verify_token(self, token: str) -> AccessToken | None:
        if not self.accept:
            return None
        return AccessToken(token=token, client_id="c1", scopes=["s"], expires_at=int(time.time()) + 300)


def pipelines(registry: CollectorRegistry) -> tuple[VerificationPipeline, VerificationPipeline]:
    """One accepting and one refusing pipeline sharing a plugin manager with the metrics plugin."""
    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, metrics_plugin(registry), METRICS_PLUGIN)
    config = AuthConfig(verifier="fake")
    return (
        VerificationPipeline(Backend(True), config, manager, name="fake"),
        VerificationPipeline(Backend(False), config, manager, name="fake"),
    )


async def test_verifications_are_counted_by_verifier_and_outcome_without_the_token() -> None:
    registry = CollectorRegistry()
    accepting, refusing = pipelines(registry)
    assert await accepting.verify_token(TOKEN) is not None
    assert await refusing.verify_token(TOKEN) is None
    count = "oscal_mcp_auth_verification_seconds_count"
    assert registry.get_sample_value(count, {"verifier": "fake", "outcome": "accept"}) == 1
    assert registry.get_sample_value(count, {"verifier": "fake", "outcome": "reject"}) == 1
    assert TOKEN not in generate_latest(registry).decode()


async def test_dpop_refusals_are_counted_by_reason_and_replays_apart() -> None:
    registry = CollectorRegistry()
    verifier = pipelines(registry)[0]
    verifier.proof_refused(TOKEN, "dpop_replay", "used before")
    verifier.proof_refused(TOKEN, "dpop_htu", "wrong URL")
    refused = "oscal_mcp_auth_dpop_proofs_refused_total"
    assert registry.get_sample_value(refused, {"reason": "dpop_replay"}) == 1
    assert registry.get_sample_value(refused, {"reason": "dpop_htu"}) == 1
    assert registry.get_sample_value("oscal_mcp_auth_dpop_replays_total") == 1


async def test_load_verifier_records_into_the_registry_the_library_user_passes(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    config = AuthConfig.from_mapping(
        {"OSCAL_AUTH_VERIFIER": "static", "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys_file(tmp_path))}
    )
    verifier = load_verifier(config, plugin_manager=create_plugin_manager(load_entry_points=False),
                             metrics_registry=registry)  # fmt: skip
    assert await verifier.verify_token(READER_KEY) is not None
    count = "oscal_mcp_auth_verification_seconds_count"
    assert registry.get_sample_value(count, {"verifier": "static", "outcome": "accept"}) == 1


# What a scrape shows of each metric, written out apart from the plugin: (type, help text, label names).
EXPOSED = {
    "oscal_mcp_auth_requests": ("counter", "Requests to the protected endpoint by outcome and reason word",
                                {"outcome", "reason"}),
    "oscal_mcp_auth_verification_seconds": ("histogram", "Token verification duration by verifier and outcome",
                                            {"verifier", "outcome"}),
    "oscal_mcp_auth_jwks_fetches": ("counter", "JWKS fetches from the Authorization Server", {"issuer"}),
    "oscal_mcp_auth_jwks_fetch_failures": ("counter", "Failed JWKS fetches by reason word", {"issuer", "reason"}),
    "oscal_mcp_auth_jwks_stale_served": ("counter", "Failed refreshes answered with the last good key set",
                                         {"issuer"}),
    "oscal_mcp_auth_upstream_request_seconds": (
        "histogram", "Calls to the Authorization Server (kind: jwks, discovery, introspection) by outcome",
        {"kind", "outcome"},
    ),
    "oscal_mcp_auth_result_cache_lookups": ("counter", "Result-cache lookups by layer (local, shared) and result",
                                            {"layer", "result"}),
    "oscal_mcp_auth_store_errors": ("counter", "Failed shared-store operations", {"store"}),
    "oscal_mcp_auth_dpop_proofs_refused": ("counter", "Requests refused for their DPoP proof by reason word",
                                           {"reason"}),
    "oscal_mcp_auth_dpop_replays": ("counter", "Replayed DPoP proofs caught", set()),
    "oscal_mcp_auth_jwks_seconds_since_success": ("gauge", "Seconds since the last successful JWKS fetch, per issuer",
                                                  {"issuer"}),
}  # fmt: skip
LATENCY_BOUNDS = ["0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                  "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"]  # fmt: skip
ISSUER = "https://as.example.com"


def test_every_metric_is_exposed_with_its_type_help_and_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = CollectorRegistry()
    metrics = AuthMetrics(registry)
    monkeypatch.setattr(time, "monotonic", lambda: 100.0)
    metrics.oscal_auth_request(outcome="reject", reason="expired")
    metrics.oscal_auth_verified(verifier="jwt", outcome="reject", seconds=0.002)
    metrics.oscal_auth_fetched(kind="jwks", issuer=ISSUER, outcome="ok", seconds=0.2)
    metrics.oscal_auth_fetched(kind="jwks", issuer=ISSUER, outcome="timeout", seconds=5)
    metrics.oscal_auth_stale_keys(issuer=ISSUER)
    metrics.oscal_auth_cache_lookup(layer="local", hit=True)
    metrics.oscal_auth_store_error(store="redis")
    metrics.oscal_auth_dpop_refused(reason="dpop_replay")
    families = {family.name: family for family in registry.collect()}
    seen = {
        name: (family.type, family.documentation, {label for s in family.samples for label in s.labels} - {"le"})
        for name, family in families.items()
    }
    assert seen == EXPOSED
    for histogram in ("oscal_mcp_auth_verification_seconds", "oscal_mcp_auth_upstream_request_seconds"):
        bounds = [s.labels["le"] for s in families[histogram].samples if s.name.endswith("_bucket")]
        assert bounds[: len(LATENCY_BOUNDS)] == LATENCY_BOUNDS


def test_the_time_since_the_last_good_jwks_fetch_is_measured_when_scraped(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = CollectorRegistry()
    metrics = AuthMetrics(registry)
    clock = iter([100.0, 130.5])
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    metrics.oscal_auth_fetched(kind="jwks", issuer=ISSUER, outcome="ok", seconds=0.2)
    since = "oscal_mcp_auth_jwks_seconds_since_success"
    assert registry.get_sample_value(since, {"issuer": ISSUER}) == 30.5
