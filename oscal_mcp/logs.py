"""Logging set-up: everything to stderr (stdout belongs to the stdio protocol), credentials redacted,
every record one line. The filters sit on the root handler, so they see every record: ours, the
SDK's and uvicorn's, in either format. The session ids the SDK quotes are replaced by the
fingerprint the audit lines carry (``session_id_hash``).

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
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from oscal_mcp_auth.logsafe import AUDIT_ATTRIBUTE, REQUEST_FIELDS, session_id_hash
from oscal_mcp_auth.redaction import hide_credentials

MAX_MESSAGE_CHARS = 4000
MAX_FIELD_CHARS = 256
MAX_LIST_ITEMS = 32


def redact(text: str) -> str:
    """`text` without credentials: the parser `asgi.read_authorization` refuses query tokens with
    (``?access_t%6Fken=``, ``;access_token=``...), and URL passwords."""
    return hide_credentials(text)


class RedactCredentials(logging.Filter):
    """Redacts credential-bearing query parameters from a record's message arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


# The SDK's streamable-http lines that quote a session id (mcp 2.x): a session id lets whoever holds
# it join the session, and an id this replica calls unknown may be live at another one.
_SDK_SESSION_LOGGERS = ("mcp.server.streamable_http", "mcp.server.streamable_http_manager")
_SDK_SESSION_ID_LINES = (
    re.compile(r"^(?P<lead>Created new transport with session ID: )(?P<id>.+)$", re.DOTALL),
    re.compile(r"^(?P<lead>Rejected request with unknown or expired session ID: )(?P<id>.+)$", re.DOTALL),
    re.compile(r"^(?P<lead>Terminating session: )(?P<id>.+)$", re.DOTALL),
    re.compile(r"^(?P<lead>Session )(?P<id>.+?)(?P<tail> idle timeout| crashed)$", re.DOTALL),
)


def hide_session_id(message: str) -> str:
    """`message` with the session id an SDK line quotes replaced by ``session_id_hash=...``, the
    fingerprint the audit lines carry, so the two can still be joined."""
    for line in _SDK_SESSION_ID_LINES:
        found = line.match(message)
        if found:
            tail = found.groupdict().get("tail") or ""
            return f"{found['lead']}[session_id_hash={session_id_hash(found['id'])}]{tail}"
    return message


def _rewrite_message(record: logging.LogRecord, rewrite: Callable[[str], str]) -> None:
    """Replaces the record's formatted message by `rewrite` of it, when that changes it."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format is logging's to report (handleError), not ours
        return
    rewritten = rewrite(message)
    if rewritten != message:
        record.msg, record.args = rewritten, ()


class HideSessionIds(logging.Filter):
    """Replaces the session ids the SDK quotes at INFO with their fingerprints."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in _SDK_SESSION_LOGGERS:
            _rewrite_message(record, hide_session_id)
        return True


def one_line(text: str) -> str:
    """`text` with every line break (``\\n``, ``\\r``, U+0085 NEL, U+2028, U+2029, vertical tab,
    form feed...) and every other control or non-printable character escaped as Python does."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _lines(text: str) -> str:
    """A traceback keeps its own newlines; anything else that a reader may split on is escaped."""
    return "\n".join(one_line(line) for line in text.split("\n"))


class EscapeLineBreaks(logging.Filter):
    """Makes a record's message one line, whoever logged it (a session id the SDK quotes may hold
    a raw U+0085, which log readers split on); a traceback keeps only its own newlines."""

    def filter(self, record: logging.LogRecord) -> bool:
        _rewrite_message(record, one_line)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _lines(record.exc_text)
        if record.stack_info:
            record.stack_info = _lines(record.stack_info)
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
    handler.addFilter(HideSessionIds())
    handler.addFilter(EscapeLineBreaks())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every outgoing request at INFO (each introspection call, each JWKS fetch): noise
    # unless debugging. Our own log lines already say what was fetched and why.
    for chatty in ("httpx", "httpx2"):
        logging.getLogger(chatty).setLevel(level if level == "DEBUG" else "WARNING")
