"""Verifiers are found by name through entry points; only the selected one is imported."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points

import pytest

from oscal_mcp_auth import AuthConfig, MissingExtraError, PluginLoadError, VerifierNotFoundError, registry
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
    with pytest.raises(
        PluginLoadError, match=r"verifier plugin 'broken' \(no_such_module_xyz:factory\) failed to import"
    ):
        load_factory("broken")


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
    with pytest.raises(PluginLoadError, match=r"verifier 'silly' returned dict, which has no 'async def verify_token"):
        build_verifier(AuthConfig(verifier="silly"))


def test_factory_that_raises_is_named(fake_entry_points: list[EntryPoint]) -> None:
    fake_entry_points.append(EntryPoint("angry", "builtins:int", GROUP))
    with pytest.raises(PluginLoadError, match="verifier 'angry' failed to start: TypeError"):
        build_verifier(AuthConfig(verifier="angry"))


def test_ambiguous_name_is_refused(fake_entry_points: list[EntryPoint]) -> None:
    fake_entry_points.append(EntryPoint("twice", "a:b", GROUP))
    fake_entry_points.append(EntryPoint("twice", "c:d", GROUP))
    with pytest.raises(Exception, match="registered by several packages"):
        load_factory("twice")
