"""The JWS Compact Serialization of a token, read strictly (RFC 7515 sections 2 and 7.1).

Each of the three segments is base64url **without padding**, in its one canonical spelling: no
``=``, no ``+`` or ``/`` of the standard alphabet, no stray bits in the last character. A lenient
decoder accepts several spellings of one signed token, and each spelling would get its own cache
entry, log fingerprint and deny-list hash.

**ECDSA twins.** An ECDSA signature ``(r, s)`` verifies as ``(r, n - s)`` too (``n`` the curve's
order), so anyone holding an ES256/384/512 token can spell a second valid one. Refusing the
"high-S" half would refuse about half the tokens of every Authorization Server (JOSE signers do
not normalise ``s``), so both are accepted, and every per-token decision is keyed on
`canonical_spelling`, the low-S one both twins share: the ``token`` of the ``AccessToken`` that
hooks see, and the fingerprint (`fingerprint`) of log lines and audit events. RSA (PKCS #1 v1.5)
signatures are unique; PSS and EdDSA are not reachable here (jwt accepts RS* and ES* only).
"""

from __future__ import annotations

import base64
import hashlib
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
# The order n of each curve's base point (SEC 2 section 2.4.2, 2.5.1, 2.6.1; FIPS 186-4 D.1.2).
_EC_ORDERS = {
    "ES256": (32, 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
    "ES384": (
        48,
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    ),
    "ES512": (
        66,
        int(
            "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA" + "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
            16,
        ),
    ),
}
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


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def low_s(alg: str, signature: bytes) -> bytes:
    """`signature` with ``s`` replaced by ``n - s`` when it is in the upper half (an ECDSA
    ``r || s`` of `alg`); any other signature unchanged."""
    order = _EC_ORDERS.get(alg)
    if order is None or len(signature) != 2 * order[0]:
        return signature
    size, n = order
    s = int.from_bytes(signature[size:], "big")
    if not n // 2 < s < n:
        return signature
    return signature[:size] + (n - s).to_bytes(size, "big")


def canonical_spelling(token: str) -> str:
    """The spelling of `token` that both ECDSA twins share (low-S, see the module docstring);
    `token` itself when it is no ES* compact JWS or already low-S. No signature is checked."""
    segments = token.split(".")
    if len(segments) != 3 or not all(is_base64url(segment) for segment in segments):
        return token
    try:
        header = json.loads(_b64decode(segments[0]))
    except (ValueError, RecursionError):
        return token
    alg = header.get("alg") if isinstance(header, dict) else None
    if not isinstance(alg, str) or alg not in _EC_ORDERS:
        return token
    return canonical(token, segments, alg, _b64decode(segments[2]))


def canonical(token: str, segments: list[str], alg: str, signature: bytes) -> str:
    """`canonical_spelling` for a token already split and decoded (the verifier's hot path)."""
    low = low_s(alg, signature)
    return token if low == signature else f"{segments[0]}.{segments[1]}.{_b64encode(low)}"


def fingerprint(token: str) -> str:
    """A short SHA-256 fingerprint of the token's canonical spelling, to correlate log lines and
    audit events about one token (and its ECDSA twin) without revealing it."""
    return hashlib.sha256(canonical_spelling(token).encode()).hexdigest()[:16]
