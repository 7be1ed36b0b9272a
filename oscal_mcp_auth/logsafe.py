"""Values from tokens and Authorization Server answers, made fit for one log line.

A ``client_id`` is chosen by whoever registered the client, a claim by whoever minted the token:
logged with ``%s`` a newline in one forges a second log line, and a megabyte of it floods the log.
`shown` is the one helper every log line and every rejection detail uses for such values.
"""

from __future__ import annotations

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
