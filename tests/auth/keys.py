"""Signing keys and token minting for unit tests (no network)."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from jose import jwk
from jose import jwt as jose_jwt
from jose.backends.base import Key

from tests.e2e.as_fixture import generate_keys, public_jwks

ISSUER = "https://as.example.com/realms/oscal"
RESOURCE = "https://oscal.example.com/mcp"


@cache
def private_jwks() -> dict[str, Any]:
    return generate_keys(("rs-1", "es-1"))


def public_keys() -> dict[str, Any]:
    return public_jwks(private_jwks())


def private_key(kid: str) -> dict[str, Any]:
    return next(k for k in private_jwks()["keys"] if k["kid"] == kid)


@cache
def signing_key(kid: str, alg: str) -> Key:
    """The private key built once: python-jose rebuilds (and checks) a JWK on every signature, which
    takes about 0.1 s for RSA."""
    return jwk.construct(private_key(kid), alg)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER, "aud": RESOURCE, "sub": "user-1", "client_id": "client-1", "scope": "oscal:read",
        "exp": now + 300, "iat": now, "jti": "jti-1",
    }  # fmt: skip
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def mint(kid: str = "rs-1", alg: str = "RS256", headers: dict[str, Any] | None = None, **overrides: Any) -> str:
    header = {"kid": kid, "typ": "at+jwt", **(headers or {})}
    return jose_jwt.encode(claims(**overrides), signing_key(kid, alg), algorithm=alg, headers=header)
