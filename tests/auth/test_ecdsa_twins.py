"""ECDSA twins (issue 20 item 3): a signature ``(r, s)`` verifies as ``(r, n - s)`` too, so anyone
holding an ES* token can spell a second valid one. Both are accepted (Authorization Servers do not
normalise ``s``), and every per-token decision is keyed on the low-S spelling both share: the
``AccessToken.token`` hooks see, and the fingerprint of log lines and audit events."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from hypothesis import event, given, settings
from hypothesis import strategies as st
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig, AuthEvent, hookimpl, jws
from oscal_mcp_auth.hooks import create_plugin_manager, register_plugin
from oscal_mcp_auth.verifier import VerificationPipeline, token_id
from tests.auth.keys import mint
from tests.auth.test_jwt import NOW, verifier

pytestmark = [pytest.mark.anyio, pytest.mark.time_machine(NOW, tick=False)]

# The curve orders as the standards give them (FIPS 186-4 D.1.2); test_the_twin_verifies proves them.
ORDERS = {
    "ES256": (ec.SECP256R1(), hashes.SHA256(), 32, int(
        "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)),
    "ES384": (ec.SECP384R1(), hashes.SHA384(), 48, int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16)),
    "ES512": (ec.SECP521R1(), hashes.SHA512(), 66, int(
        "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA" + "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16)),
}  # fmt: skip


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def header(alg: str) -> str:
    return b64url(json.dumps({"alg": alg}).encode())


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def twin(token: str, alg: str = "ES256") -> str:
    """The other spelling: ``s`` replaced by ``n - s``, computed here, independently of `jws`."""
    header, claims, signature = token.split(".")
    size, n = ORDERS[alg][2], ORDERS[alg][3]
    raw = b64decode(signature)
    s = int.from_bytes(raw[size:], "big")
    return f"{header}.{claims}.{b64url(raw[:size] + (n - s).to_bytes(size, 'big'))}"


def s_of(token: str, alg: str = "ES256") -> int:
    return int.from_bytes(b64decode(token.split(".")[2])[ORDERS[alg][2] :], "big")


@pytest.mark.parametrize("alg", ORDERS)
def test_the_twin_verifies_and_both_spellings_share_one_canonical_low_s_spelling(alg: str) -> None:
    curve, digest, size, n = ORDERS[alg]
    key = ec.generate_private_key(curve)
    signing_input = f"{header(alg)}.e30"
    for _ in range(8):  # both halves of s come up
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(digest)))
        token = f"{signing_input}.{b64url(r.to_bytes(size, 'big') + s.to_bytes(size, 'big'))}"
        other = twin(token, alg)
        key.public_key().verify(encode_dss_signature(r, n - s), signing_input.encode(), ec.ECDSA(digest))
        canonical = jws.canonical_spelling(token)
        assert canonical == jws.canonical_spelling(other) == (token if s <= n // 2 else other)
        assert s_of(canonical, alg) <= n // 2
        assert jws.fingerprint(token) == jws.fingerprint(other)


def test_a_tampered_twin_still_fails_its_signature_check() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signing_input = f"{header('ES256')}.e30"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    with pytest.raises(InvalidSignature):  # n - s - 1 is no twin: the order is what makes one
        key.public_key().verify(encode_dss_signature(r, ORDERS["ES256"][3] - s - 1), signing_input.encode(),
                                ec.ECDSA(hashes.SHA256()))  # fmt: skip


@pytest.mark.parametrize(
    "token",
    ["opaque-token", "a.b", f"{header('RS256')}.e30.{b64url(b'x' * 256)}",  # RSA: one spelling per signature
     f"{header('ES256')}.e30.{b64url(b'x' * 63)}",  # no r || s of P-256
     f"{header('ES256')}.e30.{b64url(bytes([255]) * 64)}",  # s beyond n: no signature at all
     f"{b64url(b'[1]')}.e30.AAAA"],
)  # fmt: skip
def test_anything_but_an_es_token_with_a_high_s_keeps_its_spelling(token: str) -> None:
    assert jws.canonical_spelling(token) == token


async def test_the_jwt_verifier_accepts_both_twins_as_one_token() -> None:
    token = mint("es-1", "ES256")
    other = twin(token)
    checker = verifier()
    first, second = await checker.verify_token(token), await checker.verify_token(other)
    assert first.token == second.token == jws.canonical_spelling(token)
    assert token_id(token) == token_id(other)


async def test_an_rs256_token_is_its_own_canonical_spelling() -> None:
    token = mint("rs-1", "RS256")
    assert (await verifier().verify_token(token)).token == token


class DenyList:
    """A hook keyed on the token's hash, as a deny-list of leaked tokens would be."""

    def __init__(self, denied: str) -> None:
        self.denied = hashlib.sha256(denied.encode()).hexdigest()
        self.events: list[AuthEvent] = []

    @hookimpl
    def oscal_auth_check_token(self, token: AccessToken) -> str | None:
        return "token_denied" if hashlib.sha256(token.token.encode()).hexdigest() == self.denied else None

    @hookimpl
    def oscal_auth_audit(self, event: AuthEvent) -> None:
        self.events.append(event)


class OpaqueBackend:
    """A backend that hands the presented token on as it came (as introspection and plugins do)."""

    async def verify_token(self, token: str) -> AccessToken:
        return AccessToken(token=token, client_id="c", scopes=[], expires_at=int(time.time()) + 300)


@pytest.mark.parametrize("backend", ["jwt", "one that hands the token on"])
async def test_a_deny_list_keyed_on_the_tokens_hash_refuses_its_twin_too(backend: str) -> None:
    token = mint("es-1", "ES256")
    hook = DenyList(jws.canonical_spelling(token))
    manager = create_plugin_manager()
    register_plugin(manager, hook, "deny-list")
    chosen = verifier() if backend == "jwt" else OpaqueBackend()
    pipeline = VerificationPipeline(chosen, AuthConfig(verifier="x"), manager, name="x")
    assert await pipeline.verify_token(token) is None
    assert await pipeline.verify_token(twin(token)) is None
    assert [event.reason for event in hook.events] == ["token_denied", "token_denied"]
    assert hook.events[0].token_id == hook.events[1].token_id


def es_token(alg: str, s: int, r: int = 1, alg_header: object = None) -> str:
    """A compact JWS of `alg` whose signature is ``r || s`` (no real signature: only the spelling counts)."""
    size = ORDERS[alg][2]
    head = b64url(json.dumps({"alg": alg if alg_header is None else alg_header}).encode())
    return f"{head}.e30.{b64url(r.to_bytes(size, 'big') + s.to_bytes(size, 'big'))}"


@pytest.mark.parametrize("alg", ORDERS)
def test_s_is_replaced_exactly_when_it_lies_in_the_upper_half_below_the_order(alg: str) -> None:
    n = ORDERS[alg][3]
    assert jws.canonical_spelling(es_token(alg, n // 2)) == es_token(alg, n // 2)  # the top of the lower half
    assert jws.canonical_spelling(es_token(alg, n // 2 + 1)) == es_token(alg, n - (n // 2 + 1))
    assert jws.canonical_spelling(es_token(alg, n - 1)) == es_token(alg, 1)
    assert jws.canonical_spelling(es_token(alg, n)) == es_token(alg, n)  # s = n: no signature, kept
    # a low-S signature whose last base64url character is "X" (0x17 = 23 in the last 6 bits of 48 bytes)
    assert jws.canonical_spelling(es_token(alg, n - 0x17)) == es_token(alg, 0x17)


def test_a_high_s_token_spelled_otherwise_than_canonically_keeps_its_spelling() -> None:
    """Only a strict compact JWS has a twin: a padded one (refused as malformed anyway) and one
    whose alg is no string are fingerprinted as they are."""
    high = es_token("ES256", ORDERS["ES256"][3] - 1)
    assert jws.canonical_spelling(high + "==") == high + "=="
    listed = es_token("ES256", ORDERS["ES256"][3] - 1, alg_header=["ES256"])
    assert jws.canonical_spelling(listed) == listed


@st.composite
def alg_and_s(draw: st.DrawFn) -> tuple[str, int]:
    """An algorithm and an s anywhere in its r || s field: below and above half the order, at or above
    the order, and often right at those edges."""
    alg = draw(st.sampled_from(sorted(ORDERS)))
    size, n = ORDERS[alg][2], ORDERS[alg][3]
    near = st.sampled_from([n // 2, n, 0]).flatmap(lambda edge: st.integers(max(edge - 2, 0), edge + 2))
    halves = (st.integers(0, n // 2), st.integers(n // 2 + 1, n - 1), st.integers(n, 256**size - 1))
    return alg, draw(st.one_of(near, *halves))


@settings(max_examples=300, deadline=None)
@given(drawn=alg_and_s())
def test_the_canonical_spelling_follows_the_low_s_rule_over_every_s(drawn: tuple[str, int]) -> None:
    """The policy written apart from `jws`: s in (n/2, n) becomes n - s, any other s is kept."""
    alg, s = drawn
    n = ORDERS[alg][3]
    replaced = 2 * s > n and s < n
    event("replaced" if replaced else "kept")
    assert jws.canonical_spelling(es_token(alg, s)) == es_token(alg, n - s if replaced else s)
