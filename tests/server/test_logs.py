"""Credentials in query strings never reach the logs."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from oscal_mcp.logs import EscapeLineBreaks, RedactCredentials, configure_logging, hide_session_id, redact
from oscal_mcp_auth.logsafe import session_id_hash


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("POST /mcp?access_token=abc.def HTTP/1.1", "POST /mcp?access_token=[redacted] HTTP/1.1"),
        ("/x?a=1&client_secret=s3&b=2", "/x?a=1&client_secret=[redacted]&b=2"),
        ("/mcp?page=2", "/mcp?page=2"),
        ("POST /mcp?access_t%6Fken=abc HTTP/1.1", "POST /mcp?access_t%6Fken=[redacted] HTTP/1.1"),
        ("GET /mcp%3Baccess_token%3Dabc HTTP/1.1", "GET /mcp%3Baccess_token%3D[redacted] HTTP/1.1"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_filter_redacts_access_log_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "POST", "/mcp?access_token=SECRET", "1.1", 400), None,
    )  # fmt: skip
    RedactCredentials().filter(record)
    assert "SECRET" not in record.getMessage()


def test_json_lines_are_one_object_per_record_bounded_and_escaped() -> None:
    from oscal_mcp.logs import MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, JsonLines
    from oscal_mcp_auth.logsafe import audit_extra

    record = logging.LogRecord("oscal_mcp_auth", logging.INFO, __file__, 1, "refused %s", ("x\n" * 5000,), None)
    for name, value in audit_extra(outcome="reject", client_id="evil\n\u2028" * 500, subject=None).items():
        setattr(record, name, value)
    line = JsonLines().format(record)
    assert "\n" not in line and "\u2028" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "INFO" and parsed["logger"] == "oscal_mcp_auth" and parsed["outcome"] == "reject"
    assert len(parsed["message"]) == MAX_MESSAGE_CHARS and len(parsed["client_id"]) == MAX_FIELD_CHARS
    assert "subject" not in parsed  # None values are left out


def test_json_lines_without_audit_fields_have_the_four_keys() -> None:
    from oscal_mcp.logs import JsonLines

    record = logging.LogRecord("uvicorn", logging.WARNING, __file__, 1, "plain", None, None)
    assert set(json.loads(JsonLines().format(record))) == {"time", "level", "logger", "message"}


@pytest.mark.parametrize("separator", ["\n", "\r", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1e", "\x1b"])
def test_every_line_separator_is_escaped_in_any_record(separator: str) -> None:
    record = logging.LogRecord(
        "mcp.server.streamable_http_manager", logging.INFO, __file__, 1,
        "Rejected request with unknown or expired session ID: %s", (f"abc{separator}FORGED line",), None,
    )  # fmt: skip
    EscapeLineBreaks().filter(record)
    message = record.getMessage()
    assert separator not in message
    assert repr(separator)[1:-1] + "FORGED line" in message
    assert message.splitlines() == [message]


def test_a_traceback_keeps_its_newlines_but_not_a_forged_separator() -> None:
    try:
        raise ValueError("bad id abc\u2028FORGED")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "crashed", (), sys.exc_info())
    EscapeLineBreaks().filter(record)
    assert record.exc_text is not None
    assert "\u2028" not in record.exc_text and "\\u2028FORGED" in record.exc_text
    assert record.exc_text.count("\n") >= 2  # still a readable, multi-line traceback


def test_configured_root_handler_escapes_third_party_lines(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        logging.getLogger("uvicorn.error").info("from %s", "uvicorn\x85FORGED")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "\x85" not in err and "uvicorn\\x85FORGED" in err


def test_json_lines_decode_to_one_line_too(capsys: pytest.CaptureFixture[str]) -> None:
    """JSON escapes U+0085 in transit, but a SIEM that decodes the message gets it back raw unless
    the filter escaped it first."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO", "json")
        logging.getLogger("mcp.server.streamable_http_manager").info("session %s", "abc\x85FORGED\u2028x")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    message = json.loads(capsys.readouterr().err)["message"]
    assert message == "session abc\\x85FORGED\\u2028x"


SESSION_ID = "0f5c2a9e8d7b4c3a9e1f2d3c4b5a6978"


@pytest.mark.parametrize(
    "line",
    [
        "Created new transport with session ID: {}",
        "Rejected request with unknown or expired session ID: {}",
        "Terminating session: {}",
        "Session {} idle timeout",
        "Session {} crashed",
    ],
)
def test_the_sdk_session_lines_show_the_fingerprint_instead_of_the_id(line: str) -> None:
    fingerprint = f"[session_id_hash={session_id_hash(SESSION_ID)}]"
    assert hide_session_id(line.format(SESSION_ID)) == line.format(fingerprint)


@pytest.mark.parametrize(
    "line",
    [
        "Session already exists, handling request directly",
        "StreamableHTTP session manager started",
        "Refusing to open a new session: 100 sessions are already open",
        f"session {SESSION_ID}",
    ],
)
def test_other_sdk_lines_are_left_as_they_are(line: str) -> None:
    assert hide_session_id(line) == line


def test_an_id_with_spaces_and_separators_is_hidden_whole() -> None:
    forged = "abc\x85FORGED 2026-01-01 WARNING oscal_mcp: x"
    hidden = hide_session_id(f"Rejected request with unknown or expired session ID: {forged}")
    assert hidden == f"Rejected request with unknown or expired session ID: [session_id_hash={session_id_hash(forged)}]"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_configured_handler_hides_the_ids_the_sdk_logs_only(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO", log_format)
        manager = logging.getLogger("mcp.server.streamable_http_manager")
        manager.info(f"Created new transport with session ID: {SESSION_ID}")
        logging.getLogger("mcp.server.streamable_http").info("Terminating session: %s", SESSION_ID)
        logging.getLogger("oscal_mcp.elsewhere").info("Terminating session: %s", SESSION_ID)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    err = capsys.readouterr().err
    assert err.count(f"[session_id_hash={session_id_hash(SESSION_ID)}]") == 2
    assert err.count(SESSION_ID) == 1  # only the line of a logger that is not the SDK's
