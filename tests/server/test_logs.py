"""Credentials in query strings never reach the logs."""

from __future__ import annotations

import logging

import pytest

from oscal_mcp.logs import RedactCredentials, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("POST /mcp?access_token=abc.def HTTP/1.1", "POST /mcp?access_token=[redacted] HTTP/1.1"),
        ("/x?a=1&client_secret=s3&b=2", "/x?a=1&client_secret=[redacted]&b=2"),
        ("/mcp?page=2", "/mcp?page=2"),
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
