"""DNS-rebinding protection: on for every loopback bind and wherever an allow-list is set; it follows
the resource URL a reverse proxy forwards (the README's nginx recipe) and logs each refusal once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from oscal_mcp.config import ConfigError, load_settings
from oscal_mcp.rebinding import default_hosts, is_loopback_host, parse_hosts, parse_origins, policy_for
from tests.server.http_helpers import INITIALIZE, MCP_HEADERS, READER_KEY, auth_values, bearer, serving

NO_LISTS: dict[str, tuple[str, ...]] = {"allowed_hosts": (), "allowed_origins": (), "cors_origins": ()}


@pytest.mark.parametrize(
    "bind",
    ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "0:0:0:0:0:0:0:1", "[::1]", "::ffff:127.0.0.1", "localhost",
     "LOCALHOST"],
)  # fmt: skip
def test_protection_is_on_for_every_loopback_bind(bind: str) -> None:
    assert is_loopback_host(bind)
    policy = policy_for(bind_host=bind, resource_url=None, **NO_LISTS)
    assert policy is not None
    assert not policy.allows_host("rebind.example:8000")
    assert not policy.allows_origin("http://rebind.example")
    assert policy.allows_host("localhost:8000") and policy.allows_origin("http://localhost:5173")


@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "192.0.2.10", "mcp.internal"])
def test_protection_is_off_on_other_binds_without_an_allow_list(bind: str) -> None:
    assert policy_for(bind_host=bind, resource_url="https://oscal.example.com/mcp", **NO_LISTS) is None
    listed = policy_for(bind_host=bind, resource_url=None, **{**NO_LISTS, "allowed_hosts": ("mcp.internal",)})
    assert listed is not None and listed.allows_host("mcp.internal") and not listed.allows_host("other.example")


def test_default_hosts_are_loopback_the_bind_address_and_the_resource_host() -> None:
    hosts = default_hosts("127.0.0.2", "https://oscal.example.com/mcp")
    for expected in ("localhost", "localhost:*", "127.0.0.1:*", "[::1]:*", "127.0.0.2:*", "oscal.example.com",
                     "oscal.example.com:443"):  # fmt: skip
        assert expected in hosts
    assert "oscal.example.com:*" not in hosts
    with_port = default_hosts("127.0.0.1", "http://oscal.example.test:8443/mcp")
    assert {"oscal.example.test", "oscal.example.test:8443"} <= set(with_port)


def test_host_and_origin_are_compared_without_case_and_ports_only_where_allowed() -> None:
    policy = policy_for(bind_host="127.0.0.1", resource_url="https://oscal.example.com/mcp", **NO_LISTS)
    assert policy is not None
    assert policy.allows_host("OSCAL.example.com") and policy.allows_host("oscal.example.com:443")
    assert not policy.allows_host("oscal.example.com:8080") and not policy.allows_host(None)
    assert not policy.allows_host("localhost.rebind.example:80")  # a name that merely starts like one
    assert policy.allows_origin("https://oscal.example.com") and policy.allows_origin(None)
    assert not policy.allows_origin("https://oscal.example.com.evil") and not policy.allows_origin("null")


def test_readme_nginx_recipe_public_host_reaches_a_loopback_replica(tmp_path: Path) -> None:
    """nginx sets Host: oscal.example.com for a replica on 127.0.0.1 (RESOURCE_SERVER_URL's host)."""
    with serving(auth_values(tmp_path)) as client:
        proxied = {**bearer(READER_KEY), "host": "oscal.example.com", "origin": "https://oscal.example.com"}
        assert client.post("/mcp", json=INITIALIZE, headers=proxied).status_code == 200
        foreign = {**bearer(READER_KEY), "host": "rebind.example"}
        assert client.post("/mcp", json=INITIALIZE, headers=foreign).status_code == 421


def test_rebinding_on_another_loopback_address_is_refused_without_auth() -> None:
    with serving({"OSCAL_MCP_HOST": "127.0.0.2"}, base_url="http://127.0.0.2:8000") as client:
        assert client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS).status_code == 200
        host = client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "host": "rebind.example:8000"})
        origin = client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "origin": "http://rebind.example"})
    assert (host.status_code, host.text) == (421, "Invalid Host header")
    assert (origin.status_code, origin.text) == (403, "Invalid Origin header")


def test_an_allow_list_replaces_the_default() -> None:
    values = {"OSCAL_MCP_ALLOWED_HOSTS": "mcp.internal:*", "OSCAL_MCP_ALLOWED_ORIGINS": "https://app.example"}
    with serving(values) as client:
        assert client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS).status_code == 421  # 127.0.0.1:8000
        internal = {**MCP_HEADERS, "host": "mcp.internal:9000"}
        assert client.post("/mcp", json=INITIALIZE, headers=internal).status_code == 200
        page = {**internal, "origin": "https://app.example"}
        assert client.post("/mcp", json=INITIALIZE, headers=page).status_code == 200
        local_page = {**internal, "origin": "http://localhost:5173"}
        assert client.post("/mcp", json=INITIALIZE, headers=local_page).status_code == 403


def test_a_non_loopback_bind_without_lists_accepts_any_host() -> None:
    values = {"OSCAL_MCP_HOST": "0.0.0.0", "OSCAL_MCP_ALLOW_UNAUTHENTICATED": "true"}
    with serving(values) as client:
        headers = {**MCP_HEADERS, "host": "anything.example", "origin": "https://anything.example"}
        assert client.post("/mcp", json=INITIALIZE, headers=headers).status_code == 200


def test_each_refused_value_is_logged_once_naming_the_setting(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="oscal_mcp")
    with serving({}) as client:
        for host in ("rebind.example", "rebind.example", "other.example"):
            client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "host": host})
        for _ in range(2):
            client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "origin": "http://rebind.example"})
    lines = [r.getMessage() for r in caplog.records if "DNS-rebinding" in r.getMessage()]
    assert len(lines) == 3
    assert "'rebind.example'" in lines[0] and "OSCAL_MCP_ALLOWED_HOSTS" in lines[0]
    assert "'other.example'" in lines[1]
    assert "'http://rebind.example'" in lines[2] and "OSCAL_MCP_ALLOWED_ORIGINS" in lines[2]


def test_metadata_is_guarded_too(tmp_path: Path) -> None:
    with serving(auth_values(tmp_path)) as client:
        response = client.get("/.well-known/oauth-protected-resource/mcp", headers={"host": "rebind.example"})
    assert response.status_code == 421


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OSCAL_MCP_ALLOWED_HOSTS", "https://mcp.example.com"),
        ("OSCAL_MCP_ALLOWED_HOSTS", "mcp.example.com/mcp"),
        ("OSCAL_MCP_ALLOWED_HOSTS", "mcp.example.com:port"),
        ("OSCAL_MCP_ALLOWED_ORIGINS", "app.example.com"),
        ("OSCAL_MCP_ALLOWED_ORIGINS", "https://app.example.com/"),
        ("OSCAL_MCP_ALLOWED_ORIGINS", "*"),
    ],
)
def test_bad_list_entries_name_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}: "):
        load_settings({name: value})


def test_lists_are_trimmed_lowercased_and_deduplicated() -> None:
    assert parse_hosts(" MCP.example.com, mcp.example.com:*, ,[::1]:8000 ") == (
        "mcp.example.com",
        "mcp.example.com:*",
        "[::1]:8000",
    )
    assert parse_origins("https://App.example, https://app.example,http://localhost:*") == (
        "https://app.example",
        "http://localhost:*",
    )
    settings = load_settings({"OSCAL_MCP_ALLOWED_HOSTS": "a.example", "OSCAL_MCP_ALLOWED_ORIGINS": "https://b.example"})
    assert (settings.allowed_hosts, settings.allowed_origins) == (("a.example",), ("https://b.example",))
