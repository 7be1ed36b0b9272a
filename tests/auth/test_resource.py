"""`ProtectedResource`: the RFC 8707 resource rule and where the RFC 9728 metadata lives."""

from __future__ import annotations

import pytest

from oscal_mcp_auth import ConfigurationError, ProtectedResource

RESOURCE = ProtectedResource("https://mcp.example.com/mcp", authorization_servers=("https://idp.example.com",))


@pytest.mark.parametrize(
    "token_resource",
    [
        "https://mcp.example.com/mcp",
        "https://mcp.example.com/mcp/",
        "HTTPS://MCP.EXAMPLE.COM/mcp",
        "https://mcp.example.com:443/mcp",
    ],
)
def test_the_same_resource_in_any_url_spelling_is_accepted(token_resource: str) -> None:
    assert RESOURCE.accepts_resource(token_resource)


@pytest.mark.parametrize(
    "token_resource",
    [
        None,
        "",
        "not a url",
        "https://mcp.example.com/MCP",  # paths are case-sensitive
        "https://mcp.example.com/mcp-evil",
        "https://mcp.example.com/mcp/sub",
        "https://mcp.example.com:8443/mcp",
        "http://mcp.example.com/mcp",
        "https://mcp.example.com.evil/mcp",
        "https://other.example.com/mcp",
    ],
)
def test_token_for_other_resource_is_rejected(token_resource: str | None) -> None:
    assert not RESOURCE.accepts_resource(token_resource)


def test_metadata_url_is_path_suffixed() -> None:
    """RFC 9728 section 3.1: the well-known segment goes between host and path."""
    assert RESOURCE.metadata_url == "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    assert ProtectedResource("http://127.0.0.1:8000", authorization_servers=("http://127.0.0.1:9",)).metadata_url == (
        "http://127.0.0.1:8000/.well-known/oauth-protected-resource"
    )


def test_without_authorization_servers_there_is_no_metadata() -> None:
    assert ProtectedResource("https://mcp.example.com/mcp").metadata_url is None


@pytest.mark.parametrize("field", ["url", "authorization_servers"])
def test_a_value_that_is_not_a_url_is_a_configuration_error(field: str) -> None:
    with pytest.raises(ConfigurationError, match=f"ProtectedResource.{field}="):
        if field == "url":
            ProtectedResource("mcp.example.com/mcp")
        else:
            ProtectedResource("https://mcp.example.com/mcp", authorization_servers=("idp",))
