"""Values from tokens and Authorization Server answers, made fit for one log line.

A ``client_id`` is chosen by whoever registered the client, a claim by whoever minted the token:
logged with ``%s`` a newline in one forges a second log line, and a megabyte of it floods the log.
`shown` is the one helper every log line and every rejection detail uses for such values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

DEFAULT_LIMIT = 120
_ELLIPSIS = "..."


def shown(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """`value` quoted with every control, line-separator and non-printable character escaped
    (``repr``), cut to at most `limit` characters."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return text[: max(limit - len(_ELLIPSIS), 0)] + _ELLIPSIS


def escaped(text: str, limit: int = 4 * DEFAULT_LIMIT) -> str:
    """`text` with every non-printable character escaped, unquoted, cut to `limit` characters: for
    a message built elsewhere (a plugin's rejection detail) that may hold raw values."""
    safe = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    return safe if len(safe) <= limit else safe[: max(limit - len(_ELLIPSIS), 0)] + _ELLIPSIS


# Structured fields of an audit line, for log formats that keep them apart (a JSON line per
# record): passed as ``extra=audit_extra(...)`` to a logging call; text formats ignore them.
AUDIT_ATTRIBUTE = "audit"
# Fields of the request being served (the session-id hash), added to every audit line in its task.
REQUEST_FIELDS: ContextVar[Mapping[str, str] | None] = ContextVar("oscal_mcp_auth_request_fields", default=None)


def audit_extra(**fields: object) -> dict[str, Any]:
    """``extra`` for a logging call: the decision's fields, None values left out."""
    return {AUDIT_ATTRIBUTE: {name: value for name, value in fields.items() if value is not None}}


def identity_fields(access: Any) -> dict[str, object]:
    """The audit fields of an ``AccessToken``: client id, subject, issuer and scopes."""
    return {
        "client_id": access.client_id,
        "subject": access.subject,
        "issuer": (access.claims or {}).get("iss"),
        "scopes": list(access.scopes),
    }


def session_id_hash(session_id: str) -> str:
    """A session id made fit for a log: the first 16 hex digits of its SHA-256 (the id itself
    would let a log reader join the session)."""
    return hashlib.sha256(session_id.encode(errors="replace")).hexdigest()[:16]
