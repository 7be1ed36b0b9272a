"""Fake Authorization Servers on respx for unit tests of several issuers (no network).

Each publishes discovery (at the OpenID Connect path; the RFC 8414 path answers 404) and a JWKS
whose kids are the SAME for every issuer (``rs-1``, ``es-1``) under different keys, as two real
IdPs easily do: only the issuer tells their tokens apart.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import httpx
import respx
from jose import jwt as jose_jwt

from tests.auth.keys import claims
from tests.e2e.as_fixture import generate_keys, public_jwks

ISSUER_A = "https://a.example.com/realms/oscal"
ISSUER_B = "https://b.example.com/"


@cache
def private_jwks(issuer: str) -> dict[str, Any]:
    return generate_keys(("rs-1", "es-1"))


def host(url: str) -> str:
    return url.split("://")[1].split("/")[0]


def metadata_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def jwks_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/jwks"


class FakeAuthorizationServer:
    def __init__(self, router: respx.MockRouter, issuer: str) -> None:
        self.issuer = issuer
        rfc8414 = f"https://{host(issuer)}/.well-known/oauth-authorization-server"
        router.get(url__startswith=rfc8414).mock(return_value=httpx.Response(404))
        self.discovery = router.get(metadata_url(issuer)).mock(
            return_value=httpx.Response(200, json={"issuer": issuer, "jwks_uri": jwks_url(issuer)})
        )
        self.jwks = router.get(jwks_url(issuer)).mock(return_value=httpx.Response(200, json=public_jwks(self.keys)))

    @property
    def keys(self) -> dict[str, Any]:
        return private_jwks(self.issuer)

    def sign(self, payload: dict[str, Any], kid: str = "rs-1") -> str:
        """A JWT with exactly `payload`, signed by this issuer's key `kid`."""
        private = next(k for k in self.keys["keys"] if k["kid"] == kid)
        headers = {"kid": kid, "typ": "at+jwt"}
        return jose_jwt.encode(payload, private, algorithm=private["alg"], headers=headers)

    def access_token(self, kid: str = "rs-1", **overrides: Any) -> str:
        """A valid access token of this issuer for `tests.auth.keys.RESOURCE`; `overrides` change
        claims (None removes one)."""
        return self.sign(claims(**{"iss": self.issuer, **overrides}), kid)
