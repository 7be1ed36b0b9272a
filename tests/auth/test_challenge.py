"""WWW-Authenticate values follow RFC 6750 section 3 and the MCP examples."""

from __future__ import annotations

from oscal_mcp_auth.challenge import NO_CREDENTIALS, BearerError, bearer_challenge

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
