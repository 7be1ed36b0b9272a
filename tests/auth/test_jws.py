"""The strict JWS Compact Serialization reader (oscal_mcp_auth.jws): one spelling per signed token."""

from __future__ import annotations

import base64
import json
import string

import pytest

from oscal_mcp_auth import jws
from oscal_mcp_auth.errors import TokenRejected

ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def compact(header: object, claims: object, signature: bytes = b"sig") -> str:
    return ".".join((b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)))


def canonical(segment: str) -> bool:
    """What RFC 7515 section 2 means: the segment is the one unpadded base64url spelling of its bytes."""
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except ValueError:
        return False
    return b64(data) == segment


@pytest.mark.parametrize("prefix", ["", "Q", "QU", "QUFB", "QUFBQ"])
def test_a_segment_is_accepted_exactly_when_it_is_the_canonical_spelling(prefix: str) -> None:
    for last in ALPHABET:
        segment = prefix + last
        assert jws.is_base64url(segment) == canonical(segment), segment


@pytest.mark.parametrize("segment", ["QQ==", "QQ=", "a+b", "a/b", "a b", "a.b", "QUFBQ"])
def test_padding_the_standard_alphabet_and_impossible_lengths_are_refused(segment: str) -> None:
    assert not jws.is_base64url(segment)


def test_full_groups_and_the_empty_segment_are_base64url() -> None:
    assert jws.is_base64url("QUFB")
    assert jws.is_base64url("")


def test_three_canonical_segments_are_split() -> None:
    token = compact({"alg": "RS256"}, {"sub": "a"})
    assert jws.check_compact(token) == token.split(".")


@pytest.mark.parametrize(
    ("token", "reason", "detail"),
    [
        ("a.b.c.d.e", "encrypted_token", "5 segments"),  # a JWE (RFC 7516 section 7.1)
        ("a.b", "malformed_token", "2 segments"),
        ("a.b.c.d", "malformed_token", "4 segments"),
        ("abc", "malformed_token", "1 segments"),
        ("QQ==.QQ.QQ", "malformed_token", "a segment is not unpadded base64url (RFC 7515 section 2)"),
        ("QQ.QR.QQ", "malformed_token", "a segment is not unpadded base64url (RFC 7515 section 2)"),
        ("QQ.QQ.a+b", "malformed_token", "a segment is not unpadded base64url (RFC 7515 section 2)"),
    ],
)
def test_a_token_that_is_not_three_canonical_segments_is_refused(token: str, reason: str, detail: str) -> None:
    with pytest.raises(TokenRejected) as refused:
        jws.check_compact(token)
    assert (refused.value.reason, refused.value.detail) == (reason, detail)


def test_decode_gives_the_header_the_claims_the_signing_input_and_the_signature() -> None:
    token = compact({"alg": "ES256", "kid": "k"}, {"sub": "alice", "n": 1}, b"\x00\xffsignature")
    decoded = jws.decode(token.split("."))
    assert decoded.header == {"alg": "ES256", "kid": "k"}
    assert decoded.claims == {"sub": "alice", "n": 1}
    assert decoded.signing_input == token.rsplit(".", 1)[0].encode()
    assert decoded.signature == b"\x00\xffsignature"


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 6])
def test_every_segment_length_decodes_to_its_bytes(length: int) -> None:
    data = bytes(range(200, 200 + length))
    token = compact({"alg": "ES256"}, {"sub": "a"}, data)
    assert jws.decode(token.split(".")).signature == data


@pytest.mark.parametrize(
    ("header", "claims", "detail"),
    [
        (b"not json", b"{}", "the header or the claims are not JSON"),
        (b"{}", b"not json", "the header or the claims are not JSON"),
        (b"\xff\xfe", b"{}", "the header or the claims are not JSON"),
        (b"[]", b"{}", "header or claims is not a JSON object"),
        (b"{}", b'"text"', "header or claims is not a JSON object"),
    ],
)
def test_a_header_or_claims_that_is_not_a_json_object_is_malformed(header: bytes, claims: bytes, detail: str) -> None:
    with pytest.raises(TokenRejected) as refused:
        jws.decode([b64(header), b64(claims), b64(b"sig")])
    assert (refused.value.reason, refused.value.detail) == ("malformed_token", detail)


def test_a_header_nested_beyond_the_parser_is_malformed_not_an_error() -> None:
    deep = base64.urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).rstrip(b"=").decode()
    with pytest.raises(TokenRejected) as rejected:
        jws.decode([deep, "e30", ""])
    assert rejected.value.reason == "malformed_token"
