"""`oscal-mcp settings`: every setting of the installed models, with its default, current value
(secrets masked) and meaning, in step with dotenv.example."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oscal_mcp.settings_catalog import MASK, all_settings, dotenv_example_text, dotenv_meanings
from tests.server.test_settings_fuzz import dotenv_variables

ROOT = Path(__file__).resolve().parents[2]
DEMO_PLUGIN = ROOT / "examples" / "oscal-mcp-auth-demo-plugin"


@pytest.fixture
def with_demo_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """dotenv.example documents the example plugin's settings too: import its settings models."""
    monkeypatch.syspath_prepend(str(DEMO_PLUGIN))
    importlib.import_module("oscal_mcp_auth_demo.verifier")
    importlib.import_module("oscal_mcp_auth_demo.hooks")


def setting_names() -> set[str]:
    return {setting.name for setting in all_settings()[0]}


@pytest.mark.usefixtures("with_demo_plugin")
def test_every_variable_of_dotenv_example_is_a_setting_of_a_model() -> None:
    missing = sorted(set(dotenv_variables()) - setting_names())
    assert not missing, (
        f"{missing} are documented in dotenv.example but no settings model lists them; a backend or plugin "
        "model needs model_config = SettingsConfigDict(env_prefix='OSCAL_AUTH_<NAME>_')"
    )


@pytest.mark.usefixtures("with_demo_plugin")
def test_every_setting_of_the_models_is_documented_in_dotenv_example() -> None:
    undocumented = sorted(setting_names() - set(dotenv_variables()))
    assert not undocumented, f"{undocumented}: add them to dotenv.example with a comment saying what they do"


def test_every_setting_has_a_meaning() -> None:
    settings, notes = all_settings()
    assert not notes  # every built-in backend imports with the auth extra installed
    assert [s.name for s in settings if not s.meaning] == []


def test_a_comment_block_describes_each_variable_line_under_it() -> None:
    text = "# --- Server ---\n# First sentence, e.g. this. Second sentence.\nOSCAL_A=1\n#OSCAL_B=2\n\nOSCAL_C=3\n"
    assert dotenv_meanings(text) == {
        "OSCAL_A": "First sentence, e.g. this.",
        "OSCAL_B": "First sentence, e.g. this.",
        "OSCAL_C": "",
    }


def test_a_variable_named_in_prose_is_not_a_variable_line() -> None:
    text = "# Needs auth or\n# OSCAL_X=true.\nOSCAL_Y=1\n"
    assert dotenv_meanings(text) == {"OSCAL_Y": "Needs auth or OSCAL_X=true."}


def test_the_packaged_dotenv_example_is_the_repository_one() -> None:
    assert dotenv_example_text() == (ROOT / "dotenv.example").read_text(encoding="utf-8")


def run_settings(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    return subprocess.run(
        [sys.executable, "-m", "oscal_mcp", "settings", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def block_of(output: str, name: str) -> str:
    lines = output.splitlines()
    start = lines.index(name)
    return "\n".join(lines[start : start + 3])


def test_settings_command_shows_defaults_current_values_and_sources(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OSCAL_MAX_ERRORS=7\n")
    output = run_settings("--port", "9001", env={"OSCAL_MCP_LOG_LEVEL": "DEBUG"}, cwd=tmp_path).stdout
    assert "default: 8000    current: '9001' (from command line)" in block_of(output, "OSCAL_MCP_PORT")
    assert "current: 'DEBUG' (from environment)" in block_of(output, "OSCAL_MCP_LOG_LEVEL")
    assert "default: 20    current: '7' (from .env)" in block_of(output, "OSCAL_MAX_ERRORS")
    path_block = block_of(output, "OSCAL_MCP_PATH")
    assert "default: /mcp    current: (default)\n    URL path of the MCP endpoint." in path_block
    assert "OSCAL_AUTH_INTROSPECTION_CLIENT_ID" in output and "OSCAL_AUTH_JWT_AUDIENCE" in output


def test_settings_command_masks_secrets_and_url_passwords(tmp_path: Path) -> None:
    secret, password = "cache-secret-never-printed-0123456789", "redis-password-never-printed"
    env = {"OSCAL_AUTH_CACHE_SECRET": secret, "OSCAL_AUTH_CACHE_URL": f"redis://:{password}@127.0.0.1:6379/0"}
    output = run_settings(env=env, cwd=tmp_path).stdout
    assert secret not in output and password not in output
    assert f"current: '{MASK}' (from environment)" in block_of(output, "OSCAL_AUTH_CACHE_SECRET")
    assert f"redis://{MASK}@127.0.0.1:6379/0" in block_of(output, "OSCAL_AUTH_CACHE_URL")


def test_settings_command_masks_a_password_in_a_url_query(tmp_path: Path) -> None:
    password = "redis-query-password-never-printed"
    env = {"OSCAL_AUTH_CACHE_URL": f"redis://127.0.0.1:6379/0?password={password}&db=1"}
    output = run_settings(env=env, cwd=tmp_path).stdout
    assert password not in output
    assert f"redis://127.0.0.1:6379/0?password={MASK}&db=1" in block_of(output, "OSCAL_AUTH_CACHE_URL")


def test_settings_command_names_variables_that_are_no_setting(tmp_path: Path) -> None:
    output = run_settings(env={"OSCAL_MCP_PROT": "1"}, cwd=tmp_path).stdout
    assert "OSCAL_MCP_PROT (from environment)" in output.split("# set, but not a setting")[1]


def test_help_points_to_the_settings_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oscal_mcp", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "'oscal-mcp settings' lists every one" in " ".join(result.stdout.split())
