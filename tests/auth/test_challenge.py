"""WWW-Authenticate values follow RFC 6750 section 3 and the MCP examples."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oscal_mcp_auth.challenge import NO_CREDENTIALS, BearerError, bearer_challenge, challenges, send_challenge
from oscal_mcp_auth.dpop import DPoPPolicy

META = "https://oscal.example.com/.well-known/oauth-protected-resource/mcp"


def test_no_credentials_has_no_error_attribute() -> None:
    value = bearer_challenge(NO_CREDENTIALS, resource_metadata_url=META, scopes=("oscal:read",))
    assert value == f'Bearer resource_metadata="{META}", scope="oscal:read"'


def test_invalid_token_names_the_error() -> None:
    failure = BearerError(401, "invalid_token", "expired")
    value = bearer_challenge(failure, resource_metadata_url=META, scopes=())
    assert value == f'Bearer error="invalid_token", error_description="expired", resource_metadata="{META}"'


def test_insufficient_scope_lists_scopes_space_separated() -> None:
    failure = BearerError(403, "insufficient_scope", "Missing scope: b c")
    value = bearer_challenge(failure, resource_metadata_url=None, scopes=("a", "b", "c"))
    assert value.endswith('scope="a b c"')
    assert "resource_metadata" not in value


def test_plain_bearer_without_metadata_or_scopes() -> None:
    assert bearer_challenge(NO_CREDENTIALS, resource_metadata_url=None, scopes=()) == "Bearer"


def test_quotes_and_control_characters_cannot_break_the_header() -> None:
    failure = BearerError(401, "invalid_token", 'bad "quote"\r\nInjected: yes\\')
    value = bearer_challenge(failure, resource_metadata_url=None, scopes=())
    assert "\r" not in value and "\n" not in value
    assert value == 'Bearer error="invalid_token", error_description="bad quoteInjected: yes"'


async def _sent(failure: BearerError, scopes: tuple[str, ...] = ("oscal:read",)) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        messages.append(message)

    await send_challenge(send, failure, resource_metadata_url=META, scopes=scopes)
    return messages


@pytest.mark.anyio
@pytest.mark.parametrize(
    "failure",
    [
        NO_CREDENTIALS,
        BearerError(400, "invalid_request", "More than one Authorization header"),
        BearerError(401, "invalid_token", "expired"),
        BearerError(403, "insufficient_scope", "Missing scope: oscal:read"),
    ],
    ids=["401-no-credentials", "400", "401-invalid-token", "403"],
)
async def test_send_challenge_status_headers_and_json_body(failure: BearerError) -> None:
    start, body = await _sent(failure)
    assert start["type"] == "http.response.start" and start["status"] == failure.status
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"  # RFC 6750 section 5.3: challenges are never cached
    assert headers["www-authenticate"] == bearer_challenge(failure, resource_metadata_url=META, scopes=("oscal:read",))
    assert body["type"] == "http.response.body"
    assert int(headers["content-length"]) == len(body["body"])
    expected = {"error_description": failure.description}
    if failure.error is not None:
        expected["error"] = failure.error
    assert json.loads(body["body"]) == expected


def test_dpop_is_offered_next_to_bearer_and_carries_the_error_of_a_dpop_request() -> None:
    failure = BearerError(401, "invalid_dpop_proof", "bad htu", scheme="DPoP")
    values = challenges(failure, resource_metadata_url=META, scopes=("oscal:read",), dpop=DPoPPolicy())
    assert values == [
        f'Bearer resource_metadata="{META}", scope="oscal:read"',
        f'DPoP error="invalid_dpop_proof", error_description="bad htu", algs="ES256 RS256", '
        f'resource_metadata="{META}", scope="oscal:read"',
    ]


def test_where_dpop_is_required_only_dpop_is_offered() -> None:
    values = challenges(NO_CREDENTIALS, resource_metadata_url=None, scopes=(), dpop=DPoPPolicy(required=True))
    assert values == ['DPoP algs="ES256 RS256"']


def test_every_printable_ascii_character_but_quote_and_backslash_is_kept_in_a_description() -> None:
    every = "".join(chr(code) for code in range(0x00, 0x100))
    value = bearer_challenge(BearerError(401, "invalid_token", every), resource_metadata_url=None, scopes=())
    kept = "".join(chr(code) for code in range(0x20, 0x7F) if chr(code) not in '"\\')  # RFC 6750 section 3
    assert value == f'Bearer error="invalid_token", error_description="{kept}"'


@pytest.mark.anyio
@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_side_failure_carries_no_challenge(status: int) -> None:
    start, body = await _sent(BearerError(status, "temporarily_unavailable", "retry later"))
    assert start["status"] == status
    assert b"www-authenticate" not in {name for name, _ in start["headers"]}
    assert json.loads(body["body"])["error"] == "temporarily_unavailable"
