"""Hook plugins published through the ``oscal_mcp_auth.plugins`` entry point group: found, loaded,
registered under their entry point's name; one that fails to import stops start-up naming it.
Each test installs a real (unpacked) distribution on sys.path, as pip would."""

from __future__ import annotations

from pathlib import Path

import pytest

from oscal_mcp_auth.errors import PluginLoadError
from oscal_mcp_auth.hooks import PLUGIN_GROUP, create_plugin_manager

GOOD_PLUGIN = """
from oscal_mcp_auth.hooks import hookimpl


@hookimpl
def oscal_auth_check_token(token, config):
    return "denied_by_entry_point_plugin"
"""


def install(site: Path, module: str, source: str, *, group: str = PLUGIN_GROUP) -> None:
    (site / f"{module}.py").write_text(source)
    dist_info = site / f"{module}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(f"[{group}]\n{module}-hooks = {module}\n")


def test_an_installed_hook_plugin_is_registered_under_its_entry_point_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, "oscal_test_deny_plugin", GOOD_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    manager = create_plugin_manager()
    plugin = manager.get_plugin("oscal_test_deny_plugin-hooks")
    assert plugin is not None and plugin.__name__ == "oscal_test_deny_plugin"
    assert manager.hook.oscal_auth_check_token(token=None, config=None) == ["denied_by_entry_point_plugin"]


def test_a_plugin_of_another_group_is_not_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(tmp_path, "oscal_test_other_group", GOOD_PLUGIN, group="someone_else.plugins")
    monkeypatch.syspath_prepend(str(tmp_path))
    manager = create_plugin_manager()
    assert manager.get_plugin("oscal_test_other_group-hooks") is None
    assert manager.hook.oscal_auth_check_token(token=None, config=None) == []


def test_a_plugin_that_fails_to_import_stops_start_up_naming_it_and_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, "oscal_test_broken_plugin", "raise ValueError('no config for the deny list')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError) as refused:
        create_plugin_manager()
    assert str(refused.value) == (
        "hook plugin 'oscal_test_broken_plugin-hooks' (oscal_test_broken_plugin) failed to load: "
        "ValueError: no config for the deny list"
    )


def test_entry_points_are_not_read_when_asked_not_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(tmp_path, "oscal_test_broken_plugin2", "raise ValueError('never imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    manager = create_plugin_manager(load_entry_points=False)
    assert manager.hook.oscal_auth_check_token(token=None, config=None) == []
