"""The public key of a DPoP proof: its JWK read strictly, its signature check, its thumbprint.

- RFC 9449 section 4.2: the ``jwk`` header is a public key; section 4.3 check 7: it has no
  private members, and it must fit the proof's ``alg``;
- RFC 7518 section 3: the signature algorithms (RSASSA-PKCS1-v1_5, RSASSA-PSS, ECDSA with its
  fixed-size ``r || s`` signature) and RFC 8037 for ``EdDSA`` (Ed25519);
- RFC 7638: the JWK SHA-256 thumbprint a DPoP-bound token names in ``cnf.jkt`` (RFC 9449 section 6.1).

Signatures are checked with ``cryptography`` directly: the proof's key comes from the request, so
nothing about it is cached or trusted beyond this one check.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from oscal_mcp_auth.dpop_policy import RSA_ALGORITHMS as RSA_ALGORITHMS
from oscal_mcp_auth.dpop_policy import SUPPORTED_ALGORITHMS as SUPPORTED_ALGORITHMS
from oscal_mcp_auth.jws import is_base64url

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
# RFC 7518 section 3.4: ES256 is P-256 with SHA-256, ES384 P-384, ES512 P-521 (66-byte coordinates).
_EC_CURVES: dict[str, tuple[str, ec.EllipticCurve, int]] = {  # keyed by dpop_policy.EC_ALGORITHMS
    "ES256": ("P-256", ec.SECP256R1(), 32),
    "ES384": ("P-384", ec.SECP384R1(), 48),
    "ES512": ("P-521", ec.SECP521R1(), 66),
}
# RFC 7517 section 9.3 / RFC 7518 section 6: the members that make a JWK a private (or secret) key.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MIN_RSA_BITS = 2048  # RFC 7518 section 3.3: 2048 bits or larger
MAX_RSA_BITS = 8192  # a bound on the work one request can ask for

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class UnfitKey(ValueError):
    """The ``jwk`` header is not a public key fitting the proof's ``alg``; the message says why."""


@dataclass(frozen=True)
class ProofKey:
    """A proof's public key, ready to check signatures, with its RFC 7638 thumbprint."""

    alg: str
    key: PublicKey
    thumbprint: str

    def verifies(self, signing_input: bytes, signature: bytes) -> bool:
        try:
            _verify(self.key, self.alg, signing_input, signature)
        except (InvalidSignature, ValueError):
            return False
        return True


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def proof_key(jwk: Any, alg: str) -> ProofKey:
    """The public key of `jwk` for `alg`, or `UnfitKey`."""
    if not isinstance(jwk, Mapping):
        raise UnfitKey("the jwk header is missing or not a JSON object")
    private = sorted(PRIVATE_MEMBERS.intersection(jwk))
    if private:
        raise UnfitKey(f"the jwk holds private key members ({', '.join(private)})")
    if "alg" in jwk and jwk["alg"] != alg:
        raise UnfitKey("the jwk's alg differs from the proof's")
    if jwk.get("use", "sig") != "sig":
        raise UnfitKey("the jwk's use is not sig")
    key: PublicKey
    members: tuple[str, ...]  # RFC 7638 section 3.2: the required members of each key type
    if alg in _EC_CURVES:
        key, members = _ec_key(jwk, alg), ("crv", "kty", "x", "y")
    elif alg in RSA_ALGORITHMS:
        key, members = _rsa_key(jwk), ("e", "kty", "n")
    elif alg == "EdDSA":
        key, members = _ed25519_key(jwk), ("crv", "kty", "x")
    else:
        raise UnfitKey(f"alg {alg} is not supported")
    return ProofKey(alg, key, thumbprint(jwk, members))


def thumbprint(jwk: Mapping[str, Any], members: tuple[str, ...]) -> str:
    """RFC 7638 section 3: SHA-256 of the required members, sorted, as JSON without whitespace."""
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def _member(jwk: Mapping[str, Any], name: str, *, max_chars: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value or len(value) > max_chars or not is_base64url(value):
        raise UnfitKey(f"the jwk member {name} is missing or not base64url")
    return b64url_decode(value)


def _ec_key(jwk: Mapping[str, Any], alg: str) -> ec.EllipticCurvePublicKey:
    crv, curve, size = _EC_CURVES[alg]
    if jwk.get("kty") != "EC" or jwk.get("crv") != crv:
        raise UnfitKey(f"{alg} needs an EC key on curve {crv}")
    x, y = (_member(jwk, name, max_chars=88) for name in ("x", "y"))
    if len(x) != size or len(y) != size:  # RFC 7518 section 6.2.1.2: full-length coordinates
        raise UnfitKey(f"the jwk's coordinates are not {size} bytes long")
    try:
        return ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve).public_key()
    except ValueError:
        raise UnfitKey("the jwk's point is not on its curve") from None


def _rsa_key(jwk: Mapping[str, Any]) -> rsa.RSAPublicKey:
    if jwk.get("kty") != "RSA":
        raise UnfitKey("RS* and PS* need an RSA key")
    n = int.from_bytes(_member(jwk, "n", max_chars=MAX_RSA_BITS // 6 + 2), "big")
    e = int.from_bytes(_member(jwk, "e", max_chars=8), "big")
    if not MIN_RSA_BITS <= n.bit_length() <= MAX_RSA_BITS:
        raise UnfitKey(f"the RSA key has {n.bit_length()} bits; {MIN_RSA_BITS} to {MAX_RSA_BITS} are accepted")
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError:
        raise UnfitKey("the RSA key is not valid") from None


def _ed25519_key(jwk: Mapping[str, Any]) -> ed25519.Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise UnfitKey("EdDSA needs an OKP key on curve Ed25519")
    x = _member(jwk, "x", max_chars=43)
    try:
        return ed25519.Ed25519PublicKey.from_public_bytes(x)
    except ValueError:
        raise UnfitKey("the Ed25519 key is not 32 bytes") from None


def _verify(key: PublicKey, alg: str, signing_input: bytes, signature: bytes) -> None:
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, signing_input)
        return
    digest = _HASHES[alg[2:]]()
    if isinstance(key, ec.EllipticCurvePublicKey):
        size = _EC_CURVES[alg][2]
        if len(signature) != 2 * size:  # RFC 7518 section 3.4: r || s, each full length
            raise InvalidSignature
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest))
        return
    # RFC 7518 section 3.5: PSS with MGF1 of the same hash and a salt as long as the hash
    scheme = padding.PSS(padding.MGF1(digest), digest.digest_size) if alg.startswith("PS") else padding.PKCS1v15()
    key.verify(signature, signing_input, scheme, digest)
