"""Remote URLs as the fetch reads them (no network): the host, port and request target sent, and the
exact message for each URL refused."""

from __future__ import annotations

import pytest

from oscal_mcp.oscal.errors import AccessError
from oscal_mcp.oscal.remote import MAX_URL_CHARS, RemoteTarget, is_remote, parse_remote_url


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "target", "host_header"),
    [
        ('HTTPS://Example.COM/a%20b/c"d?x=1<2&y=%41#frag', "https", "example.com", 443, "/a%20b/c%22d?x=1%3C2&y=%41",
         "example.com"),
        ("http://[::1]:8080/x", "http", "::1", 8080, "/x", "[::1]:8080"),
        ("http://[2001:db8::1]/", "http", "2001:db8::1", 80, "/", "[2001:db8::1]"),
        ("http://m\u00fcnchen.de/doc.json", "http", "xn--mnchen-3ya.de", 80, "/doc.json", "xn--mnchen-3ya.de"),
        ("https://example.com:443", "https", "example.com", 443, "/", "example.com"),
        ("https://example.com:8443/x", "https", "example.com", 8443, "/x", "example.com:8443"),
        ("http://example.com:443/x", "http", "example.com", 443, "/x", "example.com:443"),
        ("http://example.com:/x", "http", "example.com", 80, "/x", "example.com"),
        ("http://example.com:65535/", "http", "example.com", 65535, "/", "example.com:65535"),
        ("http://example.com:1/", "http", "example.com", 1, "/", "example.com:1"),
        ("http://example.com/p?q=a?b", "http", "example.com", 80, "/p?q=a?b", "example.com"),
        ("  http://Example.com  ", "http", "example.com", 80, "/", "example.com"),
        ("http://192.0.2.1/", "http", "192.0.2.1", 80, "/", "192.0.2.1"),
        ("http://example.com/a!b", "http", "example.com", 80, "/a!b", "example.com"),
        ("http://m\u00fcnchen-bahn.de/", "http", "xn--mnchen-bahn-thb.de", 80, "/", "xn--mnchen-bahn-thb.de"),
    ],
)  # fmt: skip
def test_a_url_becomes_the_host_port_and_target_sent(
    url: str, scheme: str, host: str, port: int, target: str, host_header: str
) -> None:
    parsed = parse_remote_url(url)
    assert parsed == RemoteTarget(url.strip(), scheme, host, port, target)
    assert parsed.host_header == host_header


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com:0/", "'http://example.com:0/' has port 0; ports are 1 to 65535"),
        ("http://example.com:65536/", "'http://example.com:65536/' has port 65536; ports are 1 to 65535"),
        ("http://:80/", "'http://:80/' is not an http:// or https:// URL"),
        ("http:///x", "'http:///x' is not an http:// or https:// URL"),
        ("mailto:x@y", "'mailto:x@y' is not an http:// or https:// URL"),
        ("ftp://example.com/x", "'ftp://example.com/x' is not an http:// or https:// URL"),
        ("http://example.com:\uff18\uff10/", "\uff10/' is not a valid URL: the port is not a number"),
        ("http://[::1]x/", "'http://[::1]x/' is not a valid URL: the port is not a number"),
        ("http://[::1", "'http://[::1' is not a valid URL: Invalid IPv6 URL"),
        ("http://[::1]:8]0/", "'http://[::1]:8]0/' is not a valid URL: the port is not a number"),
        ("http://" + "\u00fc" * 64 + ".de/",
         ".de/' is not a valid URL: its host is not a valid IDNA name (each label 1 to 63 characters once encoded)"),
        ("http://u@h/", "URLs with credentials (user:password@) are not accepted"),
        ("http://exa mple.com/", "'http://exa mple.com/' contains spaces or control characters; percent-encode them"),
        ("http://exa\x7fmple.com/", "\\x7fmple.com/' contains spaces or control characters; percent-encode them"),
        ("http://exa%41mple.com/", "'http://exa%41mple.com/' has an invalid host name"),
        ("http://\u2603.com/", "'http://\u2603.com/' is not a valid URL: its host is not a valid IDNA name"),
        ("http://" + "a" * 300 + ".com/", "has an invalid host name"),
    ],
)  # fmt: skip
def test_a_refused_url_gets_a_message_saying_what_to_change(url: str, message: str) -> None:
    with pytest.raises(AccessError) as refused:
        parse_remote_url(url)
    assert str(refused.value).endswith(message), str(refused.value)


def test_a_url_longer_than_the_limit_is_refused_before_it_is_parsed() -> None:
    url = "http://example.com/" + "a" * (MAX_URL_CHARS - 19)
    assert len(url) == MAX_URL_CHARS and parse_remote_url(url).host == "example.com"
    with pytest.raises(AccessError) as refused:
        parse_remote_url(url + "a")
    assert str(refused.value) == f"the URL is {MAX_URL_CHARS + 1} characters long; at most {MAX_URL_CHARS} are accepted"


@pytest.mark.parametrize(
    ("raw", "remote"),
    [("http://x", True), (" HTTPS://x", True), ("https:x", False), ("file:///x", False), ("./http://x", False)],
)
def test_only_http_and_https_references_are_remote(raw: str, remote: bool) -> None:
    assert is_remote(raw) is remote
