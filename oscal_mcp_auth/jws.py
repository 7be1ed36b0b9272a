"""The JWS Compact Serialization of a token, read strictly (RFC 7515 sections 2 and 7.1).

Each of the three segments is base64url **without padding**, in its one canonical spelling: no
``=``, no ``+`` or ``/`` of the standard alphabet, no stray bits in the last character. A lenient
decoder accepts several spellings of one signed token, and each spelling would get its own cache
entry, log fingerprint and deny-list hash.
"""

from __future__ import annotations

import base64
import json
import re
import string
from dataclasses import dataclass
from typing import Any

from oscal_mcp_auth.errors import TokenRejected

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
# A last group of 2 characters carries 8 bits in 12, of 3 characters 16 bits in 18: the unused low
# bits of the last character must be zero (RFC 4648 section 3.5), or one value has 16 spellings.
_CANONICAL_LAST = {
    2: frozenset(c for i, c in enumerate(_ALPHABET) if i & 0b1111 == 0),
    3: frozenset(c for i, c in enumerate(_ALPHABET) if i & 0b11 == 0),
}


@dataclass(frozen=True)
class CompactJws:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def check_compact(token: str) -> list[str]:
    """The three segments of `token`, or `TokenRejected` (``malformed_token``, or
    ``encrypted_token`` for a JWE's five segments), before any signature work."""
    segments = token.split(".")
    if len(segments) != 3:
        reason = "encrypted_token" if len(segments) == 5 else "malformed_token"
        raise TokenRejected(reason, f"{len(segments)} segments")
    if not all(is_base64url(segment) for segment in segments):
        raise TokenRejected("malformed_token", "a segment is not unpadded base64url (RFC 7515 section 2)")
    return segments


def is_base64url(segment: str) -> bool:
    """Canonical base64url without padding (RFC 7515 section 2)."""
    if not _BASE64URL.fullmatch(segment):
        return False
    tail = len(segment) % 4
    if tail == 1:
        return False
    return tail == 0 or segment[-1] in _CANONICAL_LAST[tail]


def decode(segments: list[str]) -> CompactJws:
    """Header and claims as JSON objects; `TokenRejected` (``malformed_token``) otherwise."""
    try:
        header = json.loads(_b64decode(segments[0]))
        claims = json.loads(_b64decode(segments[1]))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; RecursionError: deep nesting
        raise TokenRejected("malformed_token", "the header or the claims are not JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenRejected("malformed_token", "header or claims is not a JSON object")
    return CompactJws(header, claims, f"{segments[0]}.{segments[1]}".encode(), _b64decode(segments[2]))


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
