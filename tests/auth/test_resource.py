"""`ProtectedResource`: the RFC 8707 resource rule and where the RFC 9728 metadata lives."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from oscal_mcp_auth import ConfigurationError, ProtectedResource
from oscal_mcp_auth.resource import metadata_routes

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


def test_a_resource_url_may_have_a_query_but_no_fragment() -> None:
    assert ProtectedResource("https://mcp.example.com/mcp?tenant=a").url == "https://mcp.example.com/mcp?tenant=a"
    with pytest.raises(ConfigurationError) as refused:
        ProtectedResource("https://mcp.example.com/mcp#top")
    assert str(refused.value) == "ProtectedResource.url has a fragment (#); give the URL without one"


def test_an_authorization_server_has_neither_query_nor_fragment() -> None:
    with pytest.raises(ConfigurationError) as refused:
        ProtectedResource("https://mcp.example.com/mcp", authorization_servers=("https://as.example.com/?tenant=a",))
    assert str(refused.value) == (
        "ProtectedResource.authorization_servers has a query (?); an issuer identifier has none (RFC 8414 section 2)"
    )
    with pytest.raises(ConfigurationError, match=r"^ProtectedResource.authorization_servers has a fragment"):
        ProtectedResource("https://mcp.example.com/mcp", authorization_servers=("https://as.example.com/#x",))


@pytest.mark.anyio
async def test_the_metadata_document_names_the_resource_and_its_scopes() -> None:
    resource = ProtectedResource(
        "https://mcp.example.com/mcp", ("https://idp.example.com",), ("oscal:read",), resource_name="OSCAL tools"
    )
    transport = httpx.ASGITransport(app=Starlette(routes=metadata_routes(resource)))
    async with httpx.AsyncClient(transport=transport, base_url="https://mcp.example.com") as client:
        document = (await client.get("/.well-known/oauth-protected-resource/mcp")).json()
    assert document["resource"] == "https://mcp.example.com/mcp"
    assert document["resource_name"] == "OSCAL tools"
    assert document["scopes_supported"] == ["oscal:read"]


@pytest.mark.anyio
async def test_the_metadata_is_readable_cross_origin_and_only_with_get() -> None:
    transport = httpx.ASGITransport(app=Starlette(routes=metadata_routes(RESOURCE)))
    path = "/.well-known/oauth-protected-resource/mcp"
    async with httpx.AsyncClient(transport=transport, base_url="https://mcp.example.com") as client:
        preflight = await client.options(
            path, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
        )
        read = await client.get(path, headers={"Origin": "https://app.example"})
        posted = await client.post(path)
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-methods"] == "GET, OPTIONS"
    assert (read.status_code, read.headers["access-control-allow-origin"]) == (200, "*")
    assert posted.status_code == 405
