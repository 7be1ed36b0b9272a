"""The `demo-hooks` hook plugin: a deny list (veto) and a JSON-lines audit trail.

Settings are read once, in `oscal_auth_configure`, from the validated configuration.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig, AuthEvent, hookimpl

_denied_clients: frozenset[str] = frozenset()
_audit_file: Path | None = None


@hookimpl
def oscal_auth_configure(config: AuthConfig) -> None:
    global _denied_clients, _audit_file
    raw = config.environ.get("OSCAL_AUTH_DEMO_DENY_CLIENTS", "")
    _denied_clients = frozenset(c.strip() for c in raw.split(",") if c.strip())
    audit = config.environ.get("OSCAL_AUTH_DEMO_AUDIT_FILE")
    _audit_file = Path(audit) if audit else None


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
