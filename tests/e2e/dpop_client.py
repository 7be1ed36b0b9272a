"""A DPoP client for tests: a key pair, its public JWK and RFC 7638 thumbprint, and the proofs it signs.

Built on ``cryptography`` alone, independently of ``oscal_mcp_auth``'s own proof check, so a test
cannot pass because both sides share a mistake. Every part of a proof can be overridden to build
the broken ones (RFC 9449 section 4.2 lists the parts)::

    key = DPoPKey.generate("ES256")
    proof = key.proof("POST", "https://mcp.example.com/mcp", access_token=token)
    httpx.post(url, headers={"Authorization": f"DPoP {token}", "DPoP": proof})
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

REMOVE = object()
"""An override value that removes the header member or claim."""

_EC = {"ES256": (ec.SECP256R1(), "P-256", 32, hashes.SHA256()), "ES384": (ec.SECP384R1(), "P-384", 48, hashes.SHA384())}
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int, size: int) -> str:
    return b64url(value.to_bytes(size, "big"))


def ath(access_token: str) -> str:
    """RFC 9449 section 4.2: base64url SHA-256 of the access token."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


@dataclass(frozen=True)
class DPoPKey:
    alg: str
    private_key: PrivateKey

    @classmethod
    def generate(cls, alg: str = "ES256") -> DPoPKey:
        if alg in _EC:
            return cls(alg, ec.generate_private_key(_EC[alg][0]))
        if alg[:2] in ("RS", "PS"):
            return cls(alg, rsa.generate_private_key(public_exponent=65537, key_size=2048))
        if alg == "EdDSA":
            return cls(alg, ed25519.Ed25519PrivateKey.generate())
        raise ValueError(f"unsupported alg {alg}")

    @property
    def public_jwk(self) -> dict[str, str]:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            _, crv, size, _ = _EC[self.alg]
            numbers = key.public_key().public_numbers()
            return {"kty": "EC", "crv": crv, "x": _uint(numbers.x, size), "y": _uint(numbers.y, size)}
        if isinstance(key, rsa.RSAPrivateKey):
            public = key.public_key().public_numbers()
            return {"kty": "RSA", "n": _uint(public.n, (public.n.bit_length() + 7) // 8), "e": _uint(public.e, 3)}
        raw = key.public_key().public_bytes_raw()
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}

    @property
    def private_jwk(self) -> dict[str, str]:
        """The JWK with its private members: what a proof must never carry."""
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return {**self.public_jwk, "d": _uint(key.private_numbers().private_value, _EC[self.alg][2])}
        if isinstance(key, rsa.RSAPrivateKey):
            numbers = key.private_numbers()
            return {**self.public_jwk, "d": _uint(numbers.d, (numbers.d.bit_length() + 7) // 8)}
        return {**self.public_jwk, "d": b64url(key.private_bytes_raw())}

    @property
    def thumbprint(self) -> str:
        """RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace."""
        jwk = self.public_jwk
        required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
        canonical = "{" + ",".join(f'"{name}":"{jwk[name]}"' for name in required) + "}"
        return b64url(hashlib.sha256(canonical.encode()).digest())

    def proof(
        self,
        htm: str,
        htu: str,
        *,
        access_token: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        alg: str | None = None,
    ) -> str:
        """A proof for one request; `header` and `claims` override (or, with `REMOVE`, drop) members."""
        base_header: dict[str, Any] = {"typ": "dpop+jwt", "alg": alg or self.alg, "jwk": self.public_jwk}
        base_claims: dict[str, Any] = {"jti": str(uuid.uuid4()), "htm": htm, "htu": htu, "iat": int(time.time())}
        if access_token is not None:
            base_claims["ath"] = ath(access_token)
        return self.sign(_merged(base_header, header), _merged(base_claims, claims))

    def sign(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        return f"{signing_input}.{b64url(self.signature(signing_input.encode()))}"

    def signature(self, data: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            _, _, size, digest = _EC[self.alg]
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest)))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        if isinstance(key, rsa.RSAPrivateKey):
            if self.alg.startswith("PS"):
                return key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return key.sign(data)


def _merged(base: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    merged = {**base, **(overrides or {})}
    return {name: value for name, value in merged.items() if value is not REMOVE}
