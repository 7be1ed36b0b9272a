"""Logging set-up: everything to stderr (stdout belongs to the stdio protocol), credentials redacted.

``OSCAL_MCP_LOG_FORMAT=json`` makes every line one JSON object a SIEM can ingest: ``time`` (UTC,
RFC 3339), ``level``, ``logger``, ``message``, and for authentication and authorization decisions
the fields the library passes as ``extra=audit_extra(...)`` (``outcome``, ``reason``,
``client_id``, ``subject``, ``issuer``, ``scopes``, ``tool``, ``session_id_hash``...). JSON escaping
keeps a value on its line (every control and non-ASCII character is escaped), and every value is
cut to a bound, as the text lines are (`oscal_mcp_auth.logsafe`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from oscal_mcp_auth.logsafe import AUDIT_ATTRIBUTE, REQUEST_FIELDS

MAX_MESSAGE_CHARS = 4000
MAX_FIELD_CHARS = 256
MAX_LIST_ITEMS = 32

# A query parameter whose name says it carries a credential, e.g. ?access_token=... (never accepted,
# but a client may still send one, and the access log would otherwise keep it).
_CREDENTIAL_PARAM = re.compile(r"(?i)([?&][^=&\s]*(?:token|secret|password|key)[^=&\s]*=)[^&\s\"]*")


def redact(text: str) -> str:
    return _CREDENTIAL_PARAM.sub(r"\1[redacted]", text)


class RedactCredentials(logging.Filter):
    """Redacts credential-bearing query parameters from a record's message arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record, bounded (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _bounded(record.getMessage(), MAX_MESSAGE_CHARS),
        }
        fields = getattr(record, AUDIT_ATTRIBUTE, None)
        if isinstance(fields, dict):
            request = REQUEST_FIELDS.get() or {}
            for name, value in {**request, **fields}.items():
                line.setdefault(str(name)[:64], _field(value))
        if record.exc_info:
            line["exception"] = _bounded(self.formatException(record.exc_info), MAX_MESSAGE_CHARS)
        return json.dumps(line, ensure_ascii=True, default=str)


def _field(value: object) -> object:
    if isinstance(value, list | tuple):
        return [_field(item) for item in value[:MAX_LIST_ITEMS]]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return _bounded(str(value), MAX_FIELD_CHARS)


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def configure_logging(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    text = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(JsonLines() if log_format == "json" else text)
    handler.addFilter(RedactCredentials())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every outgoing request at INFO (each introspection call, each JWKS fetch): noise
    # unless debugging. Our own log lines already say what was fetched and why.
    for chatty in ("httpx", "httpx2"):
        logging.getLogger(chatty).setLevel(level if level == "DEBUG" else "WARNING")
