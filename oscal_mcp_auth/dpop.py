"""DPoP proofs (RFC 9449) as a resource server checks them, each refusal with its own reason word.

A request ``Authorization: DPoP <token>`` carries a proof, a JWT signed by the client's key, in
exactly one ``DPoP`` header. `check_proof` runs the checks of RFC 9449 section 4.3 in this order:

==================  ==========================================================================
``dpop_header``     not exactly one ``DPoP`` header (section 4.3 check 1)
``dpop_malformed``  not a compact JWS of three canonical base64url segments with JSON objects,
                    longer than `MAX_PROOF_LENGTH`, nested deeper than `MAX_JSON_DEPTH`, with
                    a lone surrogate in any string (no Unicode text: RFC 8259 section 8.2,
                    RFC 7493 section 2.1), or with a ``crit`` header (checks 2 and 3)
``dpop_typ``        ``typ`` is not ``dpop+jwt`` (check 4)
``dpop_alg``        ``alg`` is not in the allowed list; ``none`` and HMAC never are (check 5)
``dpop_jwk``        ``jwk`` is not a public key fitting ``alg`` (check 7; `dpop_keys`)
``dpop_signature``  the signature does not verify with ``jwk`` (check 6)
``dpop_htm``        ``htm`` is not the request's method (check 8)
``dpop_htu``        ``htu`` is not the request's public URL, query and fragment aside, compared
                    after RFC 3986 section 6.2.2 / 6.2.3 normalisation (check 9)
``dpop_nonce``      where the server hands out nonces (`dpop_nonce`), ``nonce`` is not one it
                    accepts (check 10); answered with ``use_dpop_nonce`` and a fresh nonce
``dpop_iat``        ``iat`` is older than the max age or in the future, beyond the leeway (check 11)
``dpop_jti``        ``jti`` is missing or longer than `MAX_JTI_LENGTH`
``dpop_ath``        ``ath`` is not the base64url SHA-256 of the access token (check 12)
==================  ==========================================================================

Then the token's ``cnf.jkt`` must equal the proof key's RFC 7638 thumbprint (check 13,
``dpop_key_mismatch``: the verifier does that, since it holds the token's claims), and last the
``jti`` must not have been seen within the window in which the proof is acceptable
(`ReplayCache`, ``dpop_replay``). The replay cache is written last so that only a proof that
passed every other check, signed by the key the token is bound to, can take a cache entry.

Without server-provided nonces (section 9), a proof's ``nonce`` claim is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers
from starlette.types import Scope

from oscal_mcp_auth.dpop_keys import (
    ProofKey,
    UnfitKey,
    b64url_decode,
    b64url_encode,
    proof_key,
)
from oscal_mcp_auth.dpop_nonce import NonceIssuer
from oscal_mcp_auth.dpop_policy import DEFAULT_ALGORITHMS as DEFAULT_ALGORITHMS
from oscal_mcp_auth.dpop_policy import DEFAULT_MAX_AGE_SECONDS as DEFAULT_MAX_AGE_SECONDS
from oscal_mcp_auth.dpop_policy import DPoPPolicy as DPoPPolicy
from oscal_mcp_auth.dpop_policy import accepted_algorithms as accepted_algorithms
from oscal_mcp_auth.errors import TokenRejected
from oscal_mcp_auth.jws import is_base64url

logger = logging.getLogger("oscal_mcp_auth")

MAX_PROOF_LENGTH = 8 * 1024  # an RSA-4096 proof is about 2 KiB
MAX_JTI_LENGTH = 256
MAX_JSON_DEPTH = 8  # a proof's deepest member is a jwk inside the header: depth 2
DPOP_TYPES = frozenset({"dpop+jwt", "application/dpop+jwt"})  # RFC 7515 section 4.1.9: the prefix may be omitted
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class InvalidProof(TokenRejected):
    """A DPoP proof failed a check of RFC 9449 section 4.3; answered with ``invalid_dpop_proof``."""


@dataclass(frozen=True)
class ProofTarget:
    """The request a proof must belong to: its method, its public URL and its access token."""

    method: str
    url: str
    access_token: str


@dataclass(frozen=True)
class CheckedProof:
    """A proof that passed every check of `check_proof`: its key's thumbprint, its jti and iat."""

    thumbprint: str
    jti: str
    iat: float

    @property
    def replay_key(self) -> str:
        """The replay-cache key: a digest of key and jti, so one client's jti never blocks another's."""
        return hashlib.sha256(f"{self.thumbprint}\x00{self.jti}".encode()).hexdigest()


def read_proof_header(scope: Scope) -> str:
    """The one ``DPoP`` header of a request (RFC 9449 section 4.3 check 1)."""
    values = Headers(scope=scope).getlist("dpop")
    if len(values) != 1:
        raise InvalidProof("dpop_header", f"{len(values)} DPoP headers; exactly one is needed")
    return values[0]


def check_proof(
    proof: str, target: ProofTarget, policy: DPoPPolicy, now: float, nonces: NonceIssuer | None = None
) -> CheckedProof:
    """Every stateless check of RFC 9449 section 4.3 on `proof`, in order; `InvalidProof` on the first
    failure. The binding to the token (``cnf.jkt``) and the replay check follow, by the caller."""
    header, claims, signing_input, signature = _split(proof)
    key = _check_header(header, policy)
    if not key.verifies(signing_input, signature):
        raise InvalidProof("dpop_signature", "the proof's signature does not verify with its jwk")
    _check_request(claims, target)
    if nonces is not None and not nonces.accepts(claims.get("nonce")):
        raise InvalidProof("dpop_nonce", "the proof needs a nonce from this server's DPoP-Nonce header")
    iat = _check_iat(claims, policy, now)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise InvalidProof("dpop_jti", f"jti must be a string of 1 to {MAX_JTI_LENGTH} characters")
    ath = claims.get("ath")
    if not isinstance(ath, str) or not hmac.compare_digest(ath.encode(), access_token_hash(target.access_token)):
        raise InvalidProof("dpop_ath", "ath is not the base64url SHA-256 of the access token")
    return CheckedProof(key.thumbprint, jti, iat)


def access_token_hash(token: str) -> bytes:
    """RFC 9449 section 4.2 ``ath``: base64url SHA-256 of the ASCII access token (as bytes)."""
    return b64url_encode(hashlib.sha256(token.encode("ascii", "replace")).digest()).encode()


def _split(proof: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    if len(proof) > MAX_PROOF_LENGTH:
        raise InvalidProof("dpop_malformed", f"the proof is longer than {MAX_PROOF_LENGTH} characters")
    segments = proof.split(".")
    if len(segments) != 3 or not all(segment and is_base64url(segment) for segment in segments):
        raise InvalidProof("dpop_malformed", "the proof is not three unpadded base64url segments (RFC 7515)")
    try:
        header = json.loads(b64url_decode(segments[0]))
        claims = json.loads(b64url_decode(segments[1]))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; RecursionError: deep nesting
        raise InvalidProof("dpop_malformed", "the proof's header or claims are not JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidProof("dpop_malformed", "the proof's header or claims are not JSON objects")
    problem = unfit_json(header) or unfit_json(claims)
    if problem:
        raise InvalidProof("dpop_malformed", problem)
    if "crit" in header:  # RFC 7515 section 4.1.11: no extension is understood here
        raise InvalidProof("dpop_malformed", "the proof has a crit header")
    return header, claims, f"{segments[0]}.{segments[1]}".encode(), b64url_decode(segments[2])


def unfit_json(document: object) -> str | None:
    """Why a parsed JSON document is no I-JSON text (RFC 7493 section 2.1) of bounded depth; None
    when it is. A lone surrogate (``"\\ud800"``) parses, yet is no Unicode text: it would fail
    later, wherever the string is encoded or compared. Iterative: no recursion on hostile input."""
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not _is_unicode(value):
                return "a string of the proof holds a lone surrogate (RFC 8259 section 8.2)"
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                return f"the proof's JSON is nested deeper than {MAX_JSON_DEPTH} levels"
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_header(header: Mapping[str, Any], policy: DPoPPolicy) -> ProofKey:
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in DPOP_TYPES:
        raise InvalidProof("dpop_typ", "typ must be dpop+jwt")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in policy.algorithms:
        raise InvalidProof("dpop_alg", f"alg {str(alg)[:20]!r} is not one of {' '.join(policy.algorithms)}")
    try:
        return proof_key(header.get("jwk"), alg)
    except UnfitKey as unfit:
        raise InvalidProof("dpop_jwk", str(unfit)) from None


def _check_request(claims: Mapping[str, Any], target: ProofTarget) -> None:
    if claims.get("htm") != target.method:
        raise InvalidProof("dpop_htm", f"htm is not {target.method}")
    htu = claims.get("htu")
    expected = normalize_http_url(target.url)
    if not isinstance(htu, str) or expected is None or normalize_http_url(htu) != expected:
        raise InvalidProof("dpop_htu", f"htu is not {expected}")


def _check_iat(claims: Mapping[str, Any], policy: DPoPPolicy, now: float) -> float:
    """RFC 9449 section 11.1: a proof is accepted for a limited time after its creation."""
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise InvalidProof("dpop_iat", "iat is missing or not a number")
    try:
        issued = float(iat)
    except OverflowError:  # an integer of hundreds of digits
        raise InvalidProof("dpop_iat", "iat is not a finite number") from None
    age = now - issued
    oldest = policy.max_age_seconds + policy.leeway_seconds
    if not math.isfinite(age) or not -policy.leeway_seconds <= age <= oldest:
        raise InvalidProof("dpop_iat", f"iat is not within {policy.max_age_seconds:g} s of now (leeway included)")
    return issued


def normalize_http_url(url: str) -> str | None:
    """`url` without query and fragment, normalised as RFC 3986 section 6.2.2 (case of scheme, host
    and percent-encodings; unreserved characters decoded) and section 6.2.3 (default port, empty
    path) say; None when it is no http(s) URL with a host, or carries user information."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname  # lower-cased by urlsplit
    if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None
    host = f"[{host}]" if ":" in host else host
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return f"{scheme}://{netloc}{_PERCENT_ENCODED.sub(_normal_percent, parts.path) or '/'}"


def _normal_percent(match: re.Match[str]) -> str:
    character = chr(int(match.group(0)[1:], 16))
    return character if character in _UNRESERVED else match.group(0).upper()


def public_origin(resource_url: str) -> str:
    """The scheme and authority clients use, from the resource server URL (it holds behind a proxy)."""
    parts = urlsplit(resource_url)
    return f"{parts.scheme}://{parts.netloc}"


def request_url(origin: str, scope: Scope) -> str:
    """The public URL of a request: `origin` plus the path as received (``raw_path``, still
    percent-encoded, as a client writes ``htu``), without the query."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else quote(str(scope.get("path", "/")))
    return origin + path.partition("?")[0]
