"""Settings of the OSCAL tools (``OSCAL_*`` variables other than ``OSCAL_MCP_*``/``OSCAL_AUTH_*``).

Validated once, at start-up: a file root, component-definitions or documents directory that does not exist is a
configuration error, not a surprise at the first tool call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from oscal_mcp_auth.config import parse_bool, parse_int
from oscal_mcp_auth.errors import ConfigurationError

DEFAULT_MAX_ERRORS = 20
DEFAULT_MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_ARCHIVE_BYTES = 128 * 1024 * 1024
DEFAULT_REMOTE_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class ToolSettings:
    file_roots: tuple[Path, ...] = field(default_factory=lambda: (Path.cwd().resolve(),))
    allow_remote_uris: bool = False
    component_definitions_dir: Path | None = None
    documents_dir: Path | None = None
    max_errors: int = DEFAULT_MAX_ERRORS
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES
    remote_timeout_seconds: int = DEFAULT_REMOTE_TIMEOUT_SECONDS

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> ToolSettings:
        roots_raw = values.get("OSCAL_FILE_ROOTS", "")
        roots = tuple(_directory("OSCAL_FILE_ROOTS", p) for p in roots_raw.split(",") if p.strip())
        comp_dir = (values.get("OSCAL_COMPONENT_DEFINITIONS_DIR") or "").strip()
        documents_dir = (values.get("OSCAL_DOCUMENTS_DIR") or "").strip()
        return cls(
            file_roots=roots or (Path.cwd().resolve(),),
            allow_remote_uris=parse_bool(values, "OSCAL_ALLOW_REMOTE_URIS", False),
            component_definitions_dir=_directory("OSCAL_COMPONENT_DEFINITIONS_DIR", comp_dir) if comp_dir else None,
            documents_dir=_directory("OSCAL_DOCUMENTS_DIR", documents_dir) if documents_dir else None,
            max_errors=parse_int(values, "OSCAL_MAX_ERRORS", DEFAULT_MAX_ERRORS, minimum=1, maximum=1000),
            max_document_bytes=parse_int(
                values, "OSCAL_MAX_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES, minimum=1024, maximum=1 << 31
            ),
            max_archive_bytes=parse_int(
                values, "OSCAL_MAX_ARCHIVE_BYTES", DEFAULT_MAX_ARCHIVE_BYTES, minimum=1024, maximum=1 << 33
            ),
            remote_timeout_seconds=parse_int(
                values, "OSCAL_REMOTE_TIMEOUT_SECONDS", DEFAULT_REMOTE_TIMEOUT_SECONDS, minimum=1, maximum=300
            ),
        )


def _directory(name: str, raw: str) -> Path:
    path = Path(raw.strip()).expanduser().resolve()
    if not path.is_dir():
        raise ConfigurationError(f"{name}: {raw.strip()!r} is not an existing directory")
    return path
