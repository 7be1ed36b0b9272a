"""The built-in metrics plugin: the library's telemetry hooks as Prometheus metrics (extra ``metrics``).

Register it like any hook plugin, with a registry you expose (`load_verifier(config,
metrics_registry=registry)` does)::

    registry = CollectorRegistry()
    register_plugin(manager, AuthMetrics(registry), "oscal-metrics")

Conventions (Prometheus naming): counters end in ``_total``, durations are ``_seconds``
histograms, labels are words from the code or configured names (verifier, issuer), never a
token, subject, client id or session id.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from oscal_mcp_auth.hooks import hookimpl

# from 100 microseconds (a cached JWT) to 10 s (an Authorization Server at its timeout)
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
REPLAY = "dpop_replay"


class AuthMetrics:
    """Hook implementations counting every decision, verification, Authorization Server call,
    cache lookup, shared-store error and refused DPoP proof."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "oscal_mcp_auth_requests", "Requests to the protected endpoint by outcome and reason word",
            ["outcome", "reason"], registry=registry,
        )  # fmt: skip
        self.verification_seconds = Histogram(
            "oscal_mcp_auth_verification_seconds", "Token verification duration by verifier and outcome",
            ["verifier", "outcome"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.jwks_fetches = Counter(
            "oscal_mcp_auth_jwks_fetches", "JWKS fetches from the Authorization Server", ["issuer"], registry=registry
        )
        self.jwks_failures = Counter(
            "oscal_mcp_auth_jwks_fetch_failures", "Failed JWKS fetches by reason word", ["issuer", "reason"],
            registry=registry,
        )  # fmt: skip
        self.stale = Counter(
            "oscal_mcp_auth_jwks_stale_served", "Failed refreshes answered with the last good key set", ["issuer"],
            registry=registry,
        )  # fmt: skip
        self.upstream_seconds = Histogram(
            "oscal_mcp_auth_upstream_request_seconds",
            "Calls to the Authorization Server (kind: jwks, discovery, introspection) by outcome",
            ["kind", "outcome"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.cache_lookups = Counter(
            "oscal_mcp_auth_result_cache_lookups", "Result-cache lookups by layer (local, shared) and result",
            ["layer", "result"], registry=registry,
        )  # fmt: skip
        self.store_errors = Counter(
            "oscal_mcp_auth_store_errors", "Failed shared-store operations", ["store"], registry=registry
        )
        self.dpop_refused = Counter(
            "oscal_mcp_auth_dpop_proofs_refused", "Requests refused for their DPoP proof by reason word", ["reason"],
            registry=registry,
        )  # fmt: skip
        self.dpop_replays = Counter("oscal_mcp_auth_dpop_replays", "Replayed DPoP proofs caught", registry=registry)
        self._last_success: dict[str, float] = {}
        registry.register(_SinceSuccess(self._last_success))

    @hookimpl
    def oscal_auth_request(self, outcome: str, reason: str) -> None:
        self.requests.labels(outcome, reason).inc()

    @hookimpl
    def oscal_auth_verified(self, verifier: str, outcome: str, seconds: float) -> None:
        self.verification_seconds.labels(verifier, outcome).observe(seconds)

    @hookimpl
    def oscal_auth_fetched(self, kind: str, issuer: str, outcome: str, seconds: float) -> None:
        self.upstream_seconds.labels(kind, "ok" if outcome == "ok" else "error").observe(seconds)
        if kind != "jwks":
            return
        self.jwks_fetches.labels(issuer).inc()
        if outcome == "ok":
            self._last_success[issuer] = time.monotonic()
        else:
            self.jwks_failures.labels(issuer, outcome).inc()

    @hookimpl
    def oscal_auth_stale_keys(self, issuer: str) -> None:
        self.stale.labels(issuer).inc()

    @hookimpl
    def oscal_auth_cache_lookup(self, layer: str, hit: bool) -> None:
        self.cache_lookups.labels(layer, "hit" if hit else "miss").inc()

    @hookimpl
    def oscal_auth_store_error(self, store: str) -> None:
        self.store_errors.labels(store).inc()

    @hookimpl
    def oscal_auth_dpop_refused(self, reason: str) -> None:
        self.dpop_refused.labels(reason).inc()
        if reason == REPLAY:
            self.dpop_replays.inc()


class _SinceSuccess(Collector):
    """``oscal_mcp_auth_jwks_seconds_since_success{issuer}``, computed when scraped."""

    def __init__(self, last_success: dict[str, float]) -> None:
        self._last_success = last_success

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "oscal_mcp_auth_jwks_seconds_since_success",
            "Seconds since the last successful JWKS fetch, per issuer",
            labels=["issuer"],
        )
        now = time.monotonic()
        for issuer, at in list(self._last_success.items()):
            family.add_metric([issuer], now - at)
        yield family
