"""Values made fit for one log line: quoted and bounded, the audit fields of an identity, a session id's hash."""

from __future__ import annotations

import hashlib

from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth.logsafe import escaped, identity_fields, session_id_hash, shown


def test_the_audit_fields_of_an_identity_are_its_client_subject_issuer_and_scopes() -> None:
    access = AccessToken(
        token="t", client_id="ci", scopes=["oscal:read", "oscal:write"], expires_at=None, subject="alice",
        claims={"iss": "https://as.example.com", "sub": "alice"},
    )  # fmt: skip
    assert identity_fields(access) == {
        "client_id": "ci",
        "subject": "alice",
        "issuer": "https://as.example.com",
        "scopes": ["oscal:read", "oscal:write"],
    }


def test_an_identity_without_claims_has_no_issuer() -> None:
    access = AccessToken(token="t", client_id="ci", scopes=[], expires_at=None)
    assert identity_fields(access) == {"client_id": "ci", "subject": None, "issuer": None, "scopes": []}


def test_a_session_id_is_logged_as_the_first_16_hex_digits_of_its_sha256() -> None:
    assert session_id_hash("9f2c-session") == hashlib.sha256(b"9f2c-session").hexdigest()[:16]
    assert len(session_id_hash("x" * 1000)) == 16


def test_a_session_id_that_is_no_text_still_gets_a_hash() -> None:
    # a header decoded as latin-1 is always text, but a lone surrogate must not break a log line
    assert session_id_hash("a\udcffb") == hashlib.sha256(b"a?b").hexdigest()[:16]


def test_a_value_as_long_as_the_limit_is_shown_whole_one_longer_is_cut_with_an_ellipsis() -> None:
    assert shown("x" * 118) == "'" + "x" * 118 + "'"  # 120 characters quoted: the limit
    assert shown("x" * 119) == "'" + "x" * 116 + "..."
    assert shown("line\nforged") == "'line\\nforged'"


def test_a_limit_shorter_than_the_ellipsis_shows_only_the_ellipsis() -> None:
    assert shown("abcdef", limit=2) == "..."


def test_a_message_built_elsewhere_has_each_unprintable_character_escaped_unquoted() -> None:
    assert escaped("refused\nforged line\u2028\x1b[31m") == "refused\\nforged line\\u2028\\x1b[31m"
    assert escaped("plain text, é") == "plain text, é"


def test_an_escaped_message_as_long_as_its_limit_is_whole_one_longer_is_cut() -> None:
    assert escaped("x" * 480) == "x" * 480  # the default limit
    assert escaped("x" * 481) == "x" * 477 + "..."
    assert escaped("abcdef", limit=2) == "..."
