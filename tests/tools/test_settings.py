from __future__ import annotations

from pathlib import Path

import pytest

from oscal_mcp.errors import ConfigError
from oscal_mcp.tools.settings import DEFAULT_MAX_DOCUMENT_BYTES, ToolSettings


def test_defaults() -> None:
    settings = ToolSettings.from_mapping({})
    assert settings.file_roots == (Path.cwd().resolve(),)
    assert settings.allow_remote_uris is False
    assert settings.component_definitions_dir is None
    assert settings.max_errors == 20
    assert settings.max_document_bytes == DEFAULT_MAX_DOCUMENT_BYTES
    assert settings.remote_timeout_seconds == 10


def test_roots_and_directories_are_resolved(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    settings = ToolSettings.from_mapping(
        {"OSCAL_FILE_ROOTS": f"{tmp_path}/a/../a, {tmp_path}/b", "OSCAL_COMPONENT_DEFINITIONS_DIR": str(tmp_path)}
    )
    assert settings.file_roots == (tmp_path / "a", tmp_path / "b")
    assert settings.component_definitions_dir == tmp_path


@pytest.mark.parametrize("name", ["OSCAL_FILE_ROOTS", "OSCAL_COMPONENT_DEFINITIONS_DIR"])
def test_a_missing_directory_is_a_configuration_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        ToolSettings.from_mapping({name: str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("name", "value"),
    [("OSCAL_MAX_ERRORS", "0"), ("OSCAL_MAX_DOCUMENT_BYTES", "12"), ("OSCAL_REMOTE_TIMEOUT_SECONDS", "soon")],
)
def test_bad_numbers_are_configuration_errors(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        ToolSettings.from_mapping({name: value})
