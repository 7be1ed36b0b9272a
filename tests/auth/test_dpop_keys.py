"""A DPoP proof's `jwk` read strictly (oscal_mcp_auth.dpop_keys): which keys fit which algorithm,
the RSA size bounds, and a refusal message that tells the operator what was wrong with the key."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from oscal_mcp_auth.dpop import DPoPPolicy, request_url
from oscal_mcp_auth.dpop_keys import MAX_RSA_BITS, UnfitKey, proof_key
from tests.e2e.dpop_client import DPoPKey, b64url


@cache
def jwk_of(alg: str) -> dict[str, str]:
    return DPoPKey.generate(alg).public_jwk


def rsa_jwk(n: int, e: bytes = b"\x01\x00\x01") -> dict[str, str]:
    return {"kty": "RSA", "e": b64url(e), "n": b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))}


def refused(jwk: Any, alg: str) -> str:
    with pytest.raises(UnfitKey) as refusal:
        proof_key(jwk, alg)
    return str(refusal.value)


@pytest.mark.parametrize(
    ("alg", "change", "message"),
    [
        ("ES256", {"kty": "RSA"}, "ES256 needs an EC key on curve P-256"),
        ("ES256", {"x": b64url(b"\x01" * 31)}, "the jwk's coordinates are not 32 bytes long"),
        ("ES256", {"y": b64url(b"\x01" * 31)}, "the jwk's coordinates are not 32 bytes long"),
        ("ES256", {"y": b64url(b"\x01" * 32)}, "the jwk's point is not on its curve"),
        ("RS256", {"kty": "EC"}, "RS* and PS* need an RSA key"),
        ("EdDSA", {"crv": "X25519"}, "EdDSA needs an OKP key on curve Ed25519"),
        ("EdDSA", {"kty": "EC"}, "EdDSA needs an OKP key on curve Ed25519"),
        ("EdDSA", {"x": b64url(b"\x01" * 33)}, "the jwk member x is missing or not base64url"),
        ("EdDSA", {"x": b64url(b"\x01" * 31)}, "the Ed25519 key is not 32 bytes"),
    ],
)
def test_a_key_unfit_for_the_algorithm_is_refused_saying_why(alg: str, change: dict[str, str], message: str) -> None:
    assert refused({**jwk_of(alg), **change}, alg) == message


def test_rsa_keys_of_2048_to_8192_bits_are_accepted_and_others_refused_with_their_size() -> None:
    largest = (1 << (MAX_RSA_BITS - 1)) | 1  # proof_key checks the key's form, not its primes
    assert proof_key(rsa_jwk(largest), "RS256").alg == "RS256"
    assert refused(rsa_jwk(1 << MAX_RSA_BITS | 1), "RS256") == "the RSA key has 8193 bits; 2048 to 8192 are accepted"
    too_long = 1 << (8 * 1026 - 1) | 1  # 1368 base64url characters: not even decoded
    assert refused(rsa_jwk(too_long), "RS256") == "the jwk member n is missing or not base64url"
    assert refused(rsa_jwk((1 << 1023) | 1), "RS256") == "the RSA key has 1024 bits; 2048 to 8192 are accepted"


def test_an_rsa_modulus_that_cannot_be_a_key_is_refused() -> None:
    assert refused(rsa_jwk((1 << 2047) | 1, e=b"\x02"), "RS256") == "the RSA key is not valid"  # an even exponent


def test_a_proof_is_remembered_until_it_could_no_longer_be_accepted() -> None:
    policy = DPoPPolicy(max_age_seconds=300, leeway_seconds=60)
    assert policy.replay_window(iat=1000.0, now=1100.0) == 260.0


def test_the_request_url_leaves_out_a_query_the_server_put_in_raw_path() -> None:
    scope = {"type": "http", "raw_path": b"/mcp?session=1", "path": "/mcp"}
    assert request_url("https://mcp.example.com", scope) == "https://mcp.example.com/mcp"
