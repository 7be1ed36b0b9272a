"""Settings of the OSCAL tools (``OSCAL_*`` variables other than ``OSCAL_MCP_*``/``OSCAL_AUTH_*``).

Validated once, at start-up: a file root or directory that does not exist is a configuration
error, not a surprise at the first tool call.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from oscal_mcp.errors import ConfigError
from oscal_mcp_auth.sections import Section, load_section

PREFIX = "OSCAL_"
OTHER_SECTIONS = ("OSCAL_MCP_", "OSCAL_AUTH_")
DEFAULT_MAX_ERRORS = 20
DEFAULT_MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_ARCHIVE_BYTES = 128 * 1024 * 1024
DEFAULT_REMOTE_TIMEOUT_SECONDS = 10


class ToolSettings(Section):
    """``OSCAL_<FIELD>``: what the OSCAL tools may read and how much."""

    model_config = SettingsConfigDict(env_prefix=PREFIX)

    file_roots: tuple[Path, ...] = Field(default_factory=lambda: (Path.cwd().resolve(),))
    allow_remote_uris: bool = False
    component_definitions_dir: Path | None = None
    documents_dir: Path | None = None
    max_errors: int = Field(default=DEFAULT_MAX_ERRORS, ge=1, le=1000)
    max_document_bytes: int = Field(default=DEFAULT_MAX_DOCUMENT_BYTES, ge=1024, le=1 << 31)
    max_archive_bytes: int = Field(default=DEFAULT_MAX_ARCHIVE_BYTES, ge=1024, le=1 << 33)
    remote_timeout_seconds: int = Field(default=DEFAULT_REMOTE_TIMEOUT_SECONDS, ge=1, le=300)

    @field_validator("file_roots", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part for part in value.split(",") if part.strip()) or (Path.cwd().resolve(),)
        return value

    @field_validator("file_roots")
    @classmethod
    def _roots_exist(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        return tuple(_directory(path, name_it=True) for path in value)

    @field_validator("component_definitions_dir", "documents_dir")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        return None if value is None else _directory(value)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> ToolSettings:
        """Validate the ``OSCAL_*`` entries of `values` that belong to no other section."""
        return load_section(cls, values, PREFIX, error=ConfigError, exclude=OTHER_SECTIONS, what="the OSCAL tools")


def _directory(raw: Path, *, name_it: bool = False) -> Path:
    try:
        path = Path(str(raw).strip()).expanduser().resolve()
        is_directory = path.is_dir()
    except (OSError, RuntimeError):  # a name too long, a symlink loop
        is_directory = False
    if not is_directory:
        problem = "not an existing directory"
        raise ValueError(f"{str(raw).strip()!r} is {problem}" if name_it else problem)
    return path
