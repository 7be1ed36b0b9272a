"""The two HTTP guards in detail, without a server: the default allow-lists, which names count as
loopback, the parsing of the settings, the refusal log, and the CORS preflight's answer."""

from __future__ import annotations

import logging

import anyio
import pytest

from oscal_mcp.cors import ALLOW_HEADERS, ALLOW_METHODS, EXPOSE_HEADERS, Cors, parse_cors_origins
from oscal_mcp.rebinding import (
    RebindingGuard,
    RebindingPolicy,
    default_hosts,
    default_origins,
    is_loopback_host,
    parse_hosts,
    parse_origins,
    policy_for,
)
from tests.server.test_origin_policies import call

LOOPBACK_HOSTS = ("localhost", "localhost:*", "127.0.0.1", "127.0.0.1:*", "[::1]", "[::1]:*")
LOOPBACK_ORIGINS = tuple(f"{scheme}://{host}" for scheme in ("http", "https") for host in LOOPBACK_HOSTS)


def test_the_default_hosts_are_loopback_the_loopback_bind_and_the_resource_host() -> None:
    assert default_hosts("::1", None) == LOOPBACK_HOSTS
    assert default_hosts("127.0.0.2", "https://oscal.example.com/mcp") == (
        *LOOPBACK_HOSTS, "127.0.0.2", "127.0.0.2:*", "oscal.example.com", "oscal.example.com:443",
    )  # fmt: skip
    assert default_hosts("0.0.0.0", "http://[2001:db8::1]:8080/mcp") == (
        *LOOPBACK_HOSTS, "[2001:db8::1]", "[2001:db8::1]:8080",
    )  # fmt: skip
    assert default_hosts("LOCALHOST", "http://oscal.test/mcp") == (*LOOPBACK_HOSTS, "oscal.test", "oscal.test:80")
    assert default_hosts("[::1]", None) == default_hosts("::1", None) == LOOPBACK_HOSTS


def test_the_default_origins_are_loopback_pages_and_the_resource_origin() -> None:
    assert default_origins(None) == LOOPBACK_ORIGINS
    assert default_origins("https://OSCAL.example.com:8443/mcp") == (
        *LOOPBACK_ORIGINS,
        "https://oscal.example.com:8443",
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.255.0.9", True), ("::1", True), ("[::1]", True), ("::ffff:127.0.0.1", True),
     ("localhost", True), ("LOCALHOST", True), ("localhost.", True), ("a.localhost", True), (" localhost ", True),
     ("localhostx", False),
     ("XLOCALHOST", False), ("[localhost]X", False), ("localhost.example", False), ("::ffff:10.0.0.1", False),
     ("0.0.0.0", False),
     ("::", False), ("10.0.0.1", False), ("", False)],
)  # fmt: skip
def test_loopback_is_localhost_and_every_spelling_of_a_loopback_address(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_allow_lists_are_parsed_lowercased_and_without_repeats() -> None:
    assert parse_hosts("a.example:*,B.example:80, ,a.example:*") == ("a.example:*", "b.example:80")
    assert parse_hosts("[::1]:8000,a_b.example") == ("[::1]:8000", "a_b.example")
    assert parse_origins("HTTPS://App.example, http://localhost:*") == ("https://app.example", "http://localhost:*")
    assert parse_hosts("") == () and parse_origins(" , ") == ()


@pytest.mark.parametrize("value", ["host/path", "a b", "-x", "x:port"])
def test_a_bad_host_entry_is_named(value: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_hosts(value)
    assert (
        str(refused.value)
        == f"{value!r} is not a host name or IP address ([...] around IPv6), optionally with :port or :*"
    )


@pytest.mark.parametrize("value", ["http://x:*/", "x.example", "http://[zz]"])
def test_a_bad_origin_entry_is_named(value: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_origins(value)
    assert (
        str(refused.value)
        == f"{value!r} is not an origin such as https://app.example.com (no path), optionally with :*"
    )


def test_cors_star_stands_alone() -> None:
    assert parse_cors_origins(" * ") == ("*",)
    with pytest.raises(ValueError) as refused:
        parse_cors_origins("https://a.example, *")
    assert str(refused.value) == "'*' allows every origin and cannot be combined with a list"


def test_the_policy_follows_the_lists_and_cors() -> None:
    lists = {"allowed_hosts": (), "allowed_origins": (), "cors_origins": ()}
    assert policy_for(bind_host="0.0.0.0", resource_url=None, **lists) is None
    only_origins = policy_for(
        bind_host="0.0.0.0", resource_url=None, **{**lists, "allowed_origins": ("https://a.example",)}
    )
    assert only_origins == RebindingPolicy(LOOPBACK_HOSTS, ("https://a.example",))
    with_cors = policy_for(
        bind_host="127.0.0.1", resource_url=None, **{**lists, "cors_origins": ("https://b.example",)}
    )
    assert with_cors == RebindingPolicy(LOOPBACK_HOSTS, (*LOOPBACK_ORIGINS, "https://b.example"))
    any_origin = policy_for(bind_host="127.0.0.1", resource_url=None, **{**lists, "cors_origins": ("*",)})
    assert any_origin == RebindingPolicy(LOOPBACK_HOSTS, None)


def test_each_refused_value_is_logged_once_and_at_most_256_of_them(caplog: pytest.LogCaptureFixture) -> None:
    guard = RebindingGuard(lambda scope, receive, send: None, RebindingPolicy(("ok.example",), ("https://ok.example",)))  # type: ignore[arg-type, return-value]

    def send(headers: dict[str, str]) -> int:
        status, _, _ = anyio.run(call, lambda inner: guard, headers)
        return status

    with caplog.at_level(logging.WARNING, logger="oscal_mcp"):
        assert send({"host": "evil.example"}) == 421
        assert send({"host": "evil.example"}) == 421
        assert send({"host": "ok.example", "origin": "https://evil.example"}) == 403
        assert send({}) == 421
    assert [record.getMessage() for record in caplog.records] == [
        "refused a request with Host header 'evil.example' (DNS-rebinding protection); if clients really reach this "
        "server by that name, add it to OSCAL_MCP_ALLOWED_HOSTS",
        "refused a request with Origin header 'https://evil.example' (DNS-rebinding protection); if clients really "
        "reach this server by that name, add it to OSCAL_MCP_ALLOWED_ORIGINS",
        "refused a request with Host header None (DNS-rebinding protection); if clients really reach this server by "
        "that name, add it to OSCAL_MCP_ALLOWED_HOSTS",
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="oscal_mcp"):
        for n in range(300):
            send({"host": f"h{n}.example"})
    assert len(caplog.records) == 256 - 3
    assert caplog.records[0].getMessage().startswith("refused a request with Host header 'h0.example'")


def test_a_long_refused_value_is_logged_cut_to_200_characters(caplog: pytest.LogCaptureFixture) -> None:
    guard = RebindingGuard(lambda scope, receive, send: None, RebindingPolicy(("ok.example",), None))  # type: ignore[arg-type, return-value]
    with caplog.at_level(logging.WARNING, logger="oscal_mcp"):
        anyio.run(call, lambda inner: guard, {"host": "h" * 500})
    assert f"Host header '{'h' * 200}' (DNS" in caplog.records[0].getMessage()


def test_a_preflight_is_answered_with_the_methods_headers_and_max_age() -> None:
    preflight = {"origin": "https://app.example", "access-control-request-method": "POST"}
    status, headers, reached = anyio.run(
        call, lambda inner: Cors(inner, ("https://app.example",)), preflight, "OPTIONS"
    )
    assert (status, reached) == (204, False)
    assert headers == {
        "access-control-allow-origin": "https://app.example",
        "vary": "Origin",
        "access-control-allow-methods": ALLOW_METHODS,
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": "600",
    }
    assert ALLOW_METHODS == "GET, POST, DELETE, OPTIONS"
    assert ALLOW_HEADERS.split(", ") == [
        "Authorization", "Content-Type", "Accept", "Mcp-Protocol-Version", "Mcp-Session-Id", "Last-Event-ID", "DPoP",
    ]  # fmt: skip
    assert EXPOSE_HEADERS.split(", ") == ["WWW-Authenticate", "Mcp-Session-Id", "Mcp-Protocol-Version", "DPoP-Nonce"]


@pytest.mark.parametrize(("origins", "granted"), [(("https://app.example",), True), (("*",), False)])
def test_private_network_access_is_granted_only_to_listed_origins(origins: tuple[str, ...], granted: bool) -> None:
    preflight = {
        "origin": "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-private-network": "true",
    }
    _, headers, _ = anyio.run(call, lambda inner: Cors(inner, origins), preflight, "OPTIONS")
    assert headers.get("access-control-allow-private-network") == ("true" if granted else None)
    asked_otherwise = {**preflight, "access-control-request-private-network": "false"}
    _, headers, _ = anyio.run(call, lambda inner: Cors(inner, origins), asked_otherwise, "OPTIONS")
    assert "access-control-allow-private-network" not in headers


def test_an_options_request_without_a_requested_method_is_no_preflight() -> None:
    status, headers, reached = anyio.run(
        call, lambda inner: Cors(inner, ("https://app.example",)), {"origin": "https://app.example"}, "OPTIONS"
    )
    assert (status, reached) == (200, True)
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-expose-headers"] == EXPOSE_HEADERS


def test_other_scope_types_pass_both_guards_untouched() -> None:
    seen: list[str] = []

    async def inner(scope: dict[str, str], receive: object, send: object) -> None:
        seen.append(scope["type"])

    async def run() -> None:
        for guard in (Cors(inner, ("https://a.example",)), RebindingGuard(inner, RebindingPolicy((), ()))):  # type: ignore[arg-type]
            await guard({"type": "lifespan"}, None, None)  # type: ignore[arg-type]

    anyio.run(run)
    assert seen == ["lifespan", "lifespan"]
