"""The `demo-hooks` hook plugin: a deny list (veto) and a JSON-lines audit trail.

Settings are read once, in `oscal_auth_configure`: only this plugin's own section,
``OSCAL_AUTH_DEMO_*``, validated by its own model (unknown names refused).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from mcp.server.auth.provider import AccessToken
from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from oscal_mcp_auth import AuthConfig, AuthEvent, Section, backend_settings, hookimpl

_denied_clients: frozenset[str] = frozenset()
_audit_file: Path | None = None


class DemoHookSettings(Section):
    """Validated from OSCAL_AUTH_DEMO_* variables."""

    model_config = SettingsConfigDict(env_prefix="OSCAL_AUTH_DEMO_")  # lists them in `oscal-mcp settings`

    deny_clients: frozenset[str] = frozenset()
    audit_file: Path | None = None

    @field_validator("deny_clients", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return frozenset(c.strip() for c in value.split(",") if c.strip()) if isinstance(value, str) else value


@hookimpl
def oscal_auth_configure(config: AuthConfig) -> None:
    global _denied_clients, _audit_file
    settings = backend_settings(config, "demo", DemoHookSettings)
    _denied_clients = settings.deny_clients
    _audit_file = settings.audit_file


@hookimpl
def oscal_auth_check_token(token: AccessToken) -> str | None:
    return "client_denied" if token.client_id in _denied_clients else None


@hookimpl
def oscal_auth_audit(event: AuthEvent) -> None:
    # A small synchronous append keeps the example short; a production audit hook should hand the
    # event to a queue or a logging handler instead of doing I/O on the request path.
    if _audit_file is not None:
        with _audit_file.open("a", encoding="utf-8") as trail:
            trail.write(json.dumps(dataclasses.asdict(event)) + "\n")
