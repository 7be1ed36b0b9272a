"""Settings of the OSCAL tools (``OSCAL_*`` variables other than ``OSCAL_MCP_*``/``OSCAL_AUTH_*``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from oscal_mcp_auth.config import parse_bool, parse_int

DEFAULT_MAX_ERRORS = 20


@dataclass(frozen=True)
class ToolSettings:
    file_roots: tuple[Path, ...] = field(default_factory=lambda: (Path.cwd().resolve(),))
    allow_remote_uris: bool = False
    component_definitions_dir: Path | None = None
    max_errors: int = DEFAULT_MAX_ERRORS

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> ToolSettings:
        roots_raw = values.get("OSCAL_FILE_ROOTS", "")
        roots = tuple(Path(p).expanduser().resolve() for p in roots_raw.split(",") if p.strip())
        comp_dir = (values.get("OSCAL_COMPONENT_DEFINITIONS_DIR") or "").strip()
        return cls(
            file_roots=roots or (Path.cwd().resolve(),),
            allow_remote_uris=parse_bool(values, "OSCAL_ALLOW_REMOTE_URIS", False),
            component_definitions_dir=Path(comp_dir).expanduser().resolve() if comp_dir else None,
            max_errors=parse_int(values, "OSCAL_MAX_ERRORS", DEFAULT_MAX_ERRORS, minimum=1, maximum=1000),
        )
