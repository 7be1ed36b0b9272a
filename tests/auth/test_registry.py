"""Verifiers are found by name through entry points; only the selected one is imported."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points

import pytest

from oscal_mcp_auth import (
    AuthConfig,
    ConfigurationError,
    MissingExtraError,
    PluginLoadError,
    VerifierNotFoundError,
    load_verifier,
    registry,
)
from oscal_mcp_auth.registry import available_verifiers, build_verifier, load_factory

GROUP = registry.VERIFIER_GROUP


def test_builtins_are_registered_through_entry_points() -> None:
    assert {"jwt", "introspection", "static"} <= set(available_verifiers())


def test_unknown_name_lists_installed_verifiers() -> None:
    with pytest.raises(
        VerifierNotFoundError, match=r"OSCAL_AUTH_VERIFIER='nope'.*installed: .*introspection.*jwt.*static"
    ):
        load_factory("nope")


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoint]]:
    points: list[EntryPoint] = []

    def fake(*, group: str, name: str | None = None) -> list[EntryPoint]:
        return [ep for ep in points if ep.group == group and (name is None or ep.name == name)]

    monkeypatch.setattr(registry, "entry_points", fake)
    yield points


def test_broken_plugin_fails_with_its_name(fake_entry_points: list[EntryPoint]) -> None:
    fake_entry_points.append(EntryPoint("broken", "no_such_module_xyz:factory", GROUP))
    with pytest.raises(PluginLoadError) as error:
        load_factory("broken")
    assert str(error.value) == (
        "verifier plugin 'broken' (no_such_module_xyz:factory) failed to import: "
        "ModuleNotFoundError: No module named 'no_such_module_xyz'"
    )


def test_a_plugin_failing_otherwise_at_import_is_named_with_the_error(fake_entry_points: list[EntryPoint]) -> None:
    fake_entry_points.append(EntryPoint("odd", "json:no_such_factory", GROUP))
    with pytest.raises(PluginLoadError) as error:
        load_factory("odd")
    assert str(error.value) == (
        "verifier plugin 'odd' (json:no_such_factory) failed to import: "
        "AttributeError: module 'json' has no attribute 'no_such_factory'"
    )


def test_a_plugin_that_is_not_callable_is_named(fake_entry_points: list[EntryPoint]) -> None:
    fake_entry_points.append(EntryPoint("constant", "oscal_mcp_auth.registry:VERIFIER_GROUP", GROUP))
    with pytest.raises(PluginLoadError) as error:
        load_factory("constant")
    assert str(error.value) == "verifier plugin 'constant' (oscal_mcp_auth.registry:VERIFIER_GROUP) is not callable"


@pytest.mark.parametrize(("names", "listed"), [(["b", "a"], "a, b"), ([], "none")])
def test_an_unknown_name_lists_exactly_what_is_installed(
    fake_entry_points: list[EntryPoint], names: list[str], listed: str
) -> None:
    fake_entry_points.extend(EntryPoint(name, "json:loads", GROUP) for name in names)
    with pytest.raises(VerifierNotFoundError) as error:
        load_factory("nope")
    assert str(error.value) == f"OSCAL_AUTH_VERIFIER='nope' is not an installed verifier; installed: {listed}"


def test_no_selected_verifier_says_what_to_set() -> None:
    with pytest.raises(ConfigurationError) as error:
        build_verifier(AuthConfig())
    assert str(error.value) == "no verifier selected; set OSCAL_AUTH_VERIFIER or OSCAL_AUTH_ISSUER_URL"


def test_a_builtin_needing_redis_names_the_redis_extra(
    fake_entry_points: list[EntryPoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_entry_points.append(EntryPoint("shared", "oscal_mcp_auth.redis_cache:RedisStore", GROUP))
    monkeypatch.delitem(sys.modules, "oscal_mcp_auth.redis_cache", raising=False)
    for name in [m for m in sys.modules if m == "redis" or m.startswith("redis.")] + ["redis"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingExtraError) as error:
        load_factory("shared")
    assert (error.value.module, error.value.extra) == ("redis", "redis")
    assert "pip install 'oscal-mcp[redis]'" in str(error.value)


def test_a_broken_plugin_does_not_break_another_selection(fake_entry_points: list[EntryPoint]) -> None:
    fake_entry_points.append(EntryPoint("broken", "no_such_module_xyz:factory", GROUP))
    fake_entry_points.append(EntryPoint("static", "oscal_mcp_auth.backends.static:create_verifier", GROUP))
    assert callable(load_factory("static"))


def test_missing_extra_of_a_builtin_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # The jwt backend's own entry point, with python-jose (extra "auth") made unimportable.
    [jwt_entry_point] = entry_points(group=GROUP, name="jwt")
    module = jwt_entry_point.value.split(":")[0]
    monkeypatch.delitem(sys.modules, module, raising=False)
    for name in [m for m in sys.modules if m == "jose" or m.startswith("jose.")] + ["jose"]:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: "not installed"
    with pytest.raises(MissingExtraError) as error:
        load_factory("jwt")
    assert (error.value.backend, error.value.module) == ("jwt", "jose")
    assert "pip install 'oscal-mcp[auth]'" in str(error.value)


def test_an_unknown_module_of_a_builtin_is_a_plain_load_error(fake_entry_points: list[EntryPoint]) -> None:
    fake_entry_points.append(EntryPoint("jwt", "oscal_mcp_auth.backends.not_there:create", GROUP))
    with pytest.raises(PluginLoadError) as error:
        load_factory("jwt")
    assert not isinstance(error.value, MissingExtraError)
    assert "oscal_mcp_auth.backends.not_there" in str(error.value)


def test_factory_must_return_a_token_verifier(fake_entry_points: list[EntryPoint]) -> None:
    fake_entry_points.append(EntryPoint("silly", "builtins:vars", GROUP))  # returns a dict
    with pytest.raises(PluginLoadError) as error:
        build_verifier(AuthConfig(verifier="silly"))
    assert str(error.value) == (
        "verifier 'silly' returned dict, which has no 'async def verify_token(token)' (the mcp TokenVerifier protocol)"
    )


def test_factory_that_raises_is_named(fake_entry_points: list[EntryPoint]) -> None:
    fake_entry_points.append(EntryPoint("angry", "builtins:int", GROUP))
    with pytest.raises(PluginLoadError, match="verifier 'angry' failed to start: TypeError"):
        build_verifier(AuthConfig(verifier="angry"))


def test_ambiguous_name_is_refused(fake_entry_points: list[EntryPoint]) -> None:
    fake_entry_points.append(EntryPoint("twice", "a:b", GROUP))
    fake_entry_points.append(EntryPoint("twice", "c:d", GROUP))
    with pytest.raises(ConfigurationError) as error:
        load_factory("twice")
    assert (
        str(error.value) == "verifier name 'twice' is registered by several packages (a:b, c:d); uninstall all but one"
    )


class UnboundVerifier:
    """A plugin backend whose tokens, like the static verifier's keys, cannot be bound to a key."""

    binds_tokens = False

    async def verify_token(self, token: str) -> None:
        return None


def unbound_verifier(config: AuthConfig) -> UnboundVerifier:
    return UnboundVerifier()


@pytest.mark.parametrize("setting", ["OSCAL_AUTH_DPOP_REQUIRED", "OSCAL_AUTH_DPOP_NONCE"])
def test_requiring_dpop_of_any_verifier_that_cannot_bind_tokens_stops_start_up(
    fake_entry_points: list[EntryPoint], setting: str
) -> None:
    fake_entry_points.append(EntryPoint("unbound", f"{__name__}:unbound_verifier", GROUP))
    config = AuthConfig.from_mapping({"OSCAL_AUTH_VERIFIER": "unbound", setting: "true"})
    with pytest.raises(ConfigurationError) as refused:
        load_verifier(config)
    assert f"{setting}=true needs DPoP-bound tokens" in str(refused.value)
    assert "the unbound verifier's tokens can never be bound" in str(refused.value)
    assert load_verifier(AuthConfig.from_mapping({"OSCAL_AUTH_VERIFIER": "unbound"})).binds_tokens is False
