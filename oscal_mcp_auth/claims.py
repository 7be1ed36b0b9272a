"""Every token-claim rule, once: RFC 7519 (JWT), RFC 9068 (JWT access tokens), RFC 7662
(introspection answers), RFC 8707 (resource indicators), RFC 9449 / RFC 8705 (bound tokens).

Every verifier uses these: ``jwt`` on a signed token's claims, ``introspection`` on the
Authorization Server's answer, ``static`` and the pipeline on an `AccessToken`'s expiry. Two
kinds of function:

- parsers (`numeric`, `string`, `audiences`, `scopes`, `client_id`) turn a raw claim into a typed
  value, or raise `MalformedClaim`; each verifier maps that to its own reason word (a claim of a
  signed token: ``bad_claim``; an AS answer: ``bad_response``);
- rules (``check_*``) return a stable reason word for the log and the audit hook, or None when
  the rule holds.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from oscal_mcp_auth.scopes import split_scopes

Claims = Mapping[str, Any]


class MalformedClaim(ValueError):
    """A claim is present but not of the type its RFC defines."""

    def __init__(self, claim: str, expected: str) -> None:
        super().__init__(f"{claim} is not {expected}")
        self.claim = claim


# -- parsers --------------------------------------------------------------------------------------


def numeric(claims: Claims, name: str) -> float | None:
    """A NumericDate or other number (RFC 7519 section 2): finite, not a boolean; None when absent."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedClaim(name, "a number")
    try:
        number = float(value)  # an int with hundreds of digits overflows here
    except OverflowError:
        raise MalformedClaim(name, "a finite number") from None
    if not math.isfinite(number):
        raise MalformedClaim(name, "a finite number")
    return number


def string(claims: Claims, name: str) -> str | None:
    value = claims.get(name)
    if value is None or isinstance(value, str):
        return value
    raise MalformedClaim(name, "a string")


def audiences(claims: Claims) -> list[str] | None:
    """``aud`` as a list (RFC 7519 section 4.1.3: a string or an array of strings); None when
    absent, and an empty array counts as absent."""
    value = claims.get("aud")
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value or None
    raise MalformedClaim("aud", "a string or a list of strings")


def scopes(claims: Claims, names: Sequence[str] = ("scope", "scp")) -> list[str]:
    """The first present of `names`: a space-separated string (RFC 6749 section 3.3, RFC 7662,
    RFC 9068 section 2.2.3) or a list of strings (``scp`` of Azure AD, Okta); empties and
    duplicates dropped, order kept; no claim means no scopes."""
    for name in names:
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            return list(dict.fromkeys(split_scopes(value)))
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(dict.fromkeys(item for item in value if item))
        raise MalformedClaim(name, "a string or a list of strings")
    return []


def client_id(claims: Claims, names: Sequence[str] = ("client_id", "azp", "cid")) -> str | None:
    """The first non-empty string among `names` (RFC 9068 section 2.2 ``client_id``; ``azp`` of
    OpenID Connect; ``cid`` of Okta)."""
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


# -- rules ----------------------------------------------------------------------------------------


def check_expiry(exp: float | None, now: float, leeway: float, *, required: bool = False) -> str | None:
    """RFC 7519 section 4.1.4: not accepted on or after ``exp`` (plus the clock-skew leeway)."""
    if exp is None:
        return "missing_claim" if required else None
    return "expired" if now > exp + leeway else None


def check_not_before(nbf: float | None, now: float, leeway: float) -> str | None:
    """RFC 7519 section 4.1.5: not accepted before ``nbf`` (minus the leeway)."""
    return "not_yet_valid" if nbf is not None and now + leeway < nbf else None


def check_issued_at(iat: float | None, now: float, leeway: float) -> str | None:
    """RFC 7519 section 4.1.6 / RFC 9068 section 4: a token issued in the future is refused."""
    return "issued_in_future" if iat is not None and now + leeway < iat else None


def check_lifetime(exp: float, now: float, max_lifetime: float, leeway: float) -> str | None:
    """A token valid for longer than `max_lifetime` from now is refused (0: no limit)."""
    return "lifetime_too_long" if max_lifetime and exp - now > max_lifetime + leeway else None


def check_times(
    claims: Claims, now: float, leeway: float, *, exp_required: bool = False, max_lifetime: float = 0
) -> str | None:
    """``exp``, ``nbf`` and ``iat`` of `claims`, each with the leeway; the first broken rule."""
    exp = numeric(claims, "exp")
    return (
        check_expiry(exp, now, leeway, required=exp_required)
        or (check_lifetime(exp, now, max_lifetime, leeway) if exp is not None else None)
        or check_not_before(numeric(claims, "nbf"), now, leeway)
        or check_issued_at(numeric(claims, "iat"), now, leeway)
    )


def check_issuer(iss: str | None, expected: str | None, *, required: bool) -> str | None:
    """RFC 7519 section 4.1.1, RFC 9068 section 4: ``iss`` equals the configured issuer exactly
    (no normalisation of any kind). With nothing configured there is nothing to compare with."""
    if expected is None:
        return None
    if iss is None:
        return "wrong_issuer" if required else None
    return None if iss == expected else "wrong_issuer"


def resource_id(value: str) -> str:
    """A resource identifier as compared: the string itself, one trailing slash aside.

    RFC 7519 section 4.1.3 compares audience values as case-sensitive strings, so nothing else is
    normalised: no case folding, no default ports, no dot-segments (``/a/%2e%2e/mcp`` is not
    ``/mcp``).
    """
    return value.removesuffix("/")


def accepted_audiences(values: Collection[str]) -> frozenset[str]:
    return frozenset(resource_id(value) for value in values)


def check_audience(found: list[str] | None, accepted: frozenset[str], *, required: bool) -> str | None:
    """RFC 7519 section 4.1.3 and RFC 8707: one of the token's audiences identifies this server.
    `accepted` comes from `accepted_audiences`; `found` from `audiences`."""
    if found is None:
        return "no_audience" if required else None
    return None if any(resource_id(value) in accepted for value in found) else "wrong_audience"


def check_binding(claims: Claims, *, dpop_jkt: str | None = None, dpop_required: bool = False) -> str | None:
    """A sender-constrained token (a ``cnf`` claim: RFC 7800; ``jkt`` of RFC 9449 section 6,
    ``x5t#S256`` of RFC 8705 section 3, or any other confirmation method) proves possession of a
    key.

    `dpop_jkt` is the JWK SHA-256 thumbprint of the DPoP proof's key when the token was presented
    under the ``DPoP`` scheme, None under ``Bearer``. Under Bearer a bound token is refused
    (RFC 9449 section 7.2: ``bound_token``); under DPoP a bound token must be bound to the proof's
    key (RFC 9449 section 6.1: ``dpop_key_mismatch``). A token bound to nothing is accepted under
    either scheme unless `dpop_required` (``dpop_required``: every token must be DPoP-bound).
    """
    if "cnf" not in claims:
        return "dpop_required" if dpop_required else None
    if dpop_jkt is None:
        return "bound_token"
    confirmation = claims.get("cnf")
    jkt = confirmation.get("jkt") if isinstance(confirmation, Mapping) else None
    if isinstance(jkt, str) and hmac.compare_digest(jkt.encode(), dpop_jkt.encode()):
        return None
    return "dpop_key_mismatch"
