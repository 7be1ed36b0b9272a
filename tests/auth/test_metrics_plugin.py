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
