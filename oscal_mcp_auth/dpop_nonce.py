"""Server-provided DPoP nonces (RFC 9449 section 9), stateless.

A resource server that wants proofs to be fresh beyond the client's own ``iat`` hands out a nonce
in the ``DPoP-Nonce`` response header; a proof without it, or with one it no longer accepts, is
answered ``401`` with ``error="use_dpop_nonce"`` and a fresh ``DPoP-Nonce`` (section 9), and the
client retries. A client holding a signing key only briefly can then not sign proofs for later.

The nonces are stateless: ``base64url(epoch || HMAC-SHA256(key, epoch)[:16])``, where the epoch
counts `rotate_seconds` periods. A nonce is accepted during its epoch and the next one (between
`rotate_seconds` and twice that), and every answer to a DPoP request carries the current nonce
(section 8.2), so a busy client rotates without ever being refused. Replicas that share the key
(derived from ``OSCAL_AUTH_CACHE_SECRET``) accept each other's nonces; without it each process
draws its own key, which suits a single replica only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from oscal_mcp_auth.dpop_keys import b64url_encode

DEFAULT_ROTATE_SECONDS = 60
_MAC_BYTES = 16
_LABEL = b"oscal_mcp_auth dpop nonce v1\x00"


class NonceIssuer:
    """Issues and checks the nonces of one deployment."""

    def __init__(
        self,
        key: bytes | None = None,
        *,
        rotate_seconds: float = DEFAULT_ROTATE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if rotate_seconds <= 0:
            raise ValueError("rotate_seconds must be positive")
        self._key = key if key is not None else secrets.token_bytes(32)
        self._rotate = rotate_seconds
        self._clock = clock

    @classmethod
    def from_secret(cls, secret: bytes, *, rotate_seconds: float = DEFAULT_ROTATE_SECONDS) -> NonceIssuer:
        """An issuer whose key is derived from a shared secret (the cache secret), so that every
        replica holding it accepts every other's nonces; the secret itself is never used as is."""
        return cls(hmac.new(secret, _LABEL, hashlib.sha256).digest(), rotate_seconds=rotate_seconds)

    def current(self) -> str:
        return self._nonce(self._epoch())

    def accepts(self, nonce: object) -> bool:
        if not isinstance(nonce, str) or len(nonce) > 64 or not nonce.isascii():
            return False  # compare_digest takes ASCII strings only; every nonce issued here is ASCII
        epoch = self._epoch()
        return any(hmac.compare_digest(nonce, self._nonce(candidate)) for candidate in (epoch, epoch - 1))

    def _epoch(self) -> int:
        return int(self._clock() // self._rotate)

    def _nonce(self, epoch: int) -> str:
        counter = max(epoch, 0).to_bytes(8, "big")
        return b64url_encode(counter + hmac.new(self._key, _LABEL + counter, hashlib.sha256).digest()[:_MAC_BYTES])
