"""Veto hooks cannot be silenced: wrappers are refused, and any result of the wrong shape vetoes."""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path

import pytest
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig, PluginLoadError, hookimpl
from oscal_mcp_auth.hooks import create_plugin_manager, register_plugin, veto_reason
from oscal_mcp_auth.verifier import VerificationPipeline, load_verifier

pytestmark = pytest.mark.anyio
CONFIG = AuthConfig(verifier="fake")


class Backend:
    async def verify_token(self, token: str) -> AccessToken:
        return AccessToken(token=token, client_id="mallory", scopes=["s"], expires_at=int(time.time()) + 300)


class Veto:
    @hookimpl
    def oscal_auth_check_token(self, token: AccessToken) -> str | None:
        return "client_denied" if token.client_id == "mallory" else None


class BareYieldWrapper:
    """A tracing wrapper that forgot ``return (yield)``: its result (None) replaces every veto."""

    @hookimpl(wrapper=True)
    def oscal_auth_check_token(self) -> Generator[None, object, None]:
        yield


class OldStyleWrapper:
    @hookimpl(hookwrapper=True)
    def oscal_auth_check_token(self) -> Generator[None, object, None]:
        outcome = yield
        outcome.force_result([])  # type: ignore[attr-defined]


@pytest.mark.parametrize("wrapper", [BareYieldWrapper, OldStyleWrapper])
def test_a_wrapper_on_the_veto_hook_is_refused_naming_the_plugin(wrapper: type) -> None:
    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, Veto(), "veto")
    with pytest.raises(PluginLoadError, match="hook plugin 'tracing': oscal_auth_check_token must not be a wrapper"):
        register_plugin(manager, wrapper(), "tracing")
    assert manager.get_plugin("tracing") is None


def test_load_verifier_refuses_a_wrapper_registered_by_hand(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text('{"keys": []}')
    config = AuthConfig.from_mapping({"OSCAL_AUTH_VERIFIER": "static", "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys)})
    manager = create_plugin_manager(load_entry_points=False)
    manager.register(BareYieldWrapper(), name="by-hand")  # bypassing register_plugin
    with pytest.raises(PluginLoadError, match="hook plugin 'by-hand'"):
        load_verifier(config, plugin_manager=manager)


async def test_a_bare_yield_wrapper_does_not_turn_a_veto_into_an_accept() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    manager.register(Veto())
    manager.register(BareYieldWrapper())  # a pipeline built without the start-up checks
    pipeline = VerificationPipeline(Backend(), CONFIG, manager, name="fake")
    assert await pipeline.verify_token("tok") is None


@pytest.mark.parametrize(
    ("results", "reason"),
    [
        ([], None),
        (["tenant_mismatch"], "tenant_mismatch"),
        (None, "hook_bad_result"),
        ("tenant_mismatch", "hook_bad_result"),
        ((), "hook_bad_result"),
        ([""], "hook_bad_result"),
        ([False], "hook_bad_result"),
        (["two words"], "hook_bad_result"),
        (["x" * 65], "hook_bad_result"),
    ],
)
def test_only_the_exact_result_shape_allows(results: object, reason: str | None) -> None:
    assert veto_reason(results) == reason
