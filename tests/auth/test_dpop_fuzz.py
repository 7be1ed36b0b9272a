"""A property-based fuzz of the DPoP proof parser: whatever a client sends in the ``DPoP`` header,
`check_proof` (and the replay cache behind it) either accepts the proof or refuses it with
`InvalidProof` and a reason word, never another exception (which the server would answer 500).

The proofs are signed with a real key, so every check behind the signature is reached with the
hostile value: deep nesting, lone surrogates (RFC 8259 section 8.2), non-ASCII text, huge and
non-finite numbers, in every member the parser reads.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oscal_mcp_auth.dpop import DPoPPolicy, InvalidProof, ProofTarget, check_proof
from oscal_mcp_auth.dpop_nonce import NonceIssuer
from oscal_mcp_auth.replay import ReplayCache
from tests.e2e.dpop_client import DPoPKey, ath, b64url

URL = "https://mcp.example.com/mcp"
TOKEN = "access-token-1"
NOW = 1_800_000_000.0
KEY = DPoPKey.generate("ES256")
NONCES = NonceIssuer(b"k" * 32, clock=lambda: NOW)
POLICY = DPoPPolicy()

ANY_CHARACTER = st.characters(exclude_categories=())  # lone surrogates included
HOSTILE_TEXT = st.text(ANY_CHARACTER, max_size=20) | st.sampled_from(["\ud800", "\udfff", "\u00e9", "\u2028", "\x00"])
HOSTILE_NUMBER = st.sampled_from([10**400, -(10**400), 1e308, float("inf"), float("-inf"), float("nan"), 2**63])
SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | HOSTILE_NUMBER | HOSTILE_TEXT
JSON_VALUE = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3), max_leaves=8
)
DEEP = [["x"]]
for _ in range(1200):
    DEEP = [DEEP]

CLAIMS = ("jti", "htm", "htu", "iat", "ath", "nonce")
HEADER = ("typ", "alg", "jwk")


def valid_claims() -> dict[str, Any]:
    return {"jti": "j-1", "htm": "POST", "htu": URL, "iat": int(NOW), "ath": ath(TOKEN), "nonce": NONCES.current()}


def valid_header() -> dict[str, Any]:
    return {"typ": "dpop+jwt", "alg": "ES256", "jwk": KEY.public_jwk}


def signed(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return signed_by(KEY, header, claims)


def signed_by(key: DPoPKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """Serialised as Python does (lone surrogates as ``\\ud800`` escapes, non-finite numbers as
    ``NaN``/``Infinity``, which `json.loads` reads back), then signed with `key`."""
    return key.sign(header, claims) if _serialisable(header, claims) else _raw_signed(key, header, claims)


def _serialisable(*values: Any) -> bool:
    try:
        json.dumps(values)
    except (ValueError, RecursionError):
        return False
    return True


def _raw_signed(key: DPoPKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    signing_input = f"{b64url(_text(header).encode())}.{b64url(_text(claims).encode())}"
    return f"{signing_input}.{b64url(key.signature(signing_input.encode()))}"


def _text(value: Any) -> str:
    """JSON text for values too deep for `json.dumps`: nesting written out by hand."""
    if value is DEEP:
        return "[" * 1201 + '"x"' + "]" * 1201
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_text(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def checked_and_remembered(proof: str) -> str:
    """Either "accepted" or the reason word of the refusal: any other exception fails the test."""
    try:
        checked = check_proof(proof, ProofTarget("POST", URL, TOKEN), POLICY, NOW, NONCES)
        asyncio.run(ReplayCache().remember(checked, 60))
    except InvalidProof as refused:
        assert refused.reason.startswith("dpop_") and refused.detail
        return refused.reason
    return "accepted"


MEMBER = st.sampled_from([("claims", name) for name in CLAIMS] + [("header", name) for name in HEADER])
HOSTILE_VALUE = st.one_of(HOSTILE_TEXT, HOSTILE_TEXT.map(lambda text: "j-" + text), SCALAR, JSON_VALUE, st.just(DEEP))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(MEMBER, HOSTILE_VALUE), min_size=1, max_size=2))
def test_a_signed_proof_with_any_json_in_any_member_is_accepted_or_refused_never_an_error(
    changes: list[tuple[tuple[str, str], Any]],
) -> None:
    header, claims = valid_header(), valid_claims()
    for (where, member), value in changes:
        (header if where == "header" else claims)[member] = value
    checked_and_remembered(signed(header, claims))


@settings(max_examples=300, deadline=None)
@given(header=st.binary(max_size=300), claims=st.binary(max_size=300), signature=st.binary(max_size=80))
def test_any_bytes_in_any_segment_are_refused_never_an_error(header: bytes, claims: bytes, signature: bytes) -> None:
    assert checked_and_remembered(f"{b64url(header)}.{b64url(claims)}.{b64url(signature)}") != "accepted"


# The members the report named, each once, as regression cases.
@pytest.mark.parametrize(
    ("where", "member", "value", "reason"),
    [
        ("claims", "ath", "\ud800", "dpop_malformed"),
        ("claims", "jti", "\udfff", "dpop_malformed"),
        ("claims", "nonce", "n\u00e9", "dpop_nonce"),
        ("claims", "nonce", "\ud800", "dpop_malformed"),
        ("claims", "htu", URL + "\ud800", "dpop_malformed"),
        ("claims", "iat", 10**400, "dpop_iat"),
        ("claims", "htm", DEEP, "dpop_malformed"),
        ("header", "jwk", DEEP, "dpop_malformed"),
        ("header", "typ", "dpop+jwt\ud800", "dpop_malformed"),
    ],
)
def test_each_reported_hostile_member_gets_its_reason_word(where: str, member: str, value: Any, reason: str) -> None:
    header, claims = valid_header(), valid_claims()
    (header if where == "header" else claims)[member] = value
    assert checked_and_remembered(signed(header, claims)) == reason


def test_the_valid_proof_of_the_fuzz_is_accepted() -> None:
    assert checked_and_remembered(signed(valid_header(), valid_claims())) == "accepted"
