"""The two failures of reading a document; both carry a message a caller can act on."""

from __future__ import annotations


class DocumentError(Exception):
    """The content is not a well-formed document; `line`/`column` are 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class AccessError(Exception):
    """A file, archive or URI cannot be read (missing, refused, too large...); the message says why."""
