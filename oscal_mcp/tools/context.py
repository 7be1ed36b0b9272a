"""What the tools may know about the running server: settings, never secrets."""

from __future__ import annotations

from dataclasses import dataclass

from oscal_mcp.config import Settings


@dataclass(frozen=True)
class ToolContext:
    settings: Settings
