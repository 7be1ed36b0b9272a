"""Small text helpers shared by the domain and the tools, so every result is clipped the same way."""

from __future__ import annotations

ELLIPSIS = "\u2026"


def clip(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else its first ``limit - 1`` and an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def utf8_size(text: str) -> int:
    """How many bytes `text` takes in UTF-8 (lone surrogates count as the 3 bytes they would take)."""
    return len(text.encode("utf-8", "surrogatepass"))
