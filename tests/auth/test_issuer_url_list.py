"""Every issuer of a comma-listed ``OSCAL_AUTH_ISSUER_URL`` is held to the plain-http rule, not just the
first: a network attacker on the path to any of them could inject signing keys."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from oscal_mcp_auth import AuthConfig, ConfigurationError

LOOPBACK_HOSTS = ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "[::1]"]
REMOTE_HOSTS = ["idp.example.com", "10.0.0.5", "192.168.1.2", "128.0.0.1", "localhost.example.com", "[::2]"]


def loopback(host: str) -> bool:
    """The rule, written separately: the name localhost, or an address in 127/8 or ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@st.composite
def issuer_lists(draw: st.DrawFn) -> list[tuple[str, str]]:
    """One to four distinct (scheme, host) issuers; plain http to a remote host about a quarter of the time."""
    count = draw(st.integers(min_value=1, max_value=4))
    schemes = draw(st.lists(st.sampled_from(["https", "http"]), min_size=count, max_size=count))
    hosts = draw(st.lists(st.sampled_from(LOOPBACK_HOSTS + REMOTE_HOSTS), min_size=count, max_size=count))
    return list(dict.fromkeys(zip(schemes, hosts, strict=True)))


@given(issuers=issuer_lists(), allow_insecure_http=st.sampled_from([False, False, False, True]))
def test_every_listed_issuer_must_be_https_or_loopback(
    issuers: list[tuple[str, str]], allow_insecure_http: bool
) -> None:
    urls = [f"{scheme}://{host}:9000/realm{i}" for i, (scheme, host) in enumerate(issuers)]
    values = {"OSCAL_AUTH_ISSUER_URL": ",".join(urls)}
    if allow_insecure_http:
        values["OSCAL_AUTH_ALLOW_INSECURE_HTTP"] = "true"
    insecure = [
        url for url, (scheme, host) in zip(urls, issuers, strict=True) if scheme == "http" and not loopback(host)
    ]
    if not insecure or allow_insecure_http:
        event("accepted")
        assert AuthConfig.from_mapping(values).issuer_urls == tuple(urls)
        return
    event("refused")
    with pytest.raises(ConfigurationError) as refused:
        AuthConfig.from_mapping(values)
    assert str(refused.value).startswith(f"OSCAL_AUTH_ISSUER_URL={insecure[0]!r} is plain http")


def test_a_plain_http_issuer_later_in_the_list_is_refused() -> None:
    values = {"OSCAL_AUTH_ISSUER_URL": "https://a.example.com,http://127.0.0.1:9000,http://b.example.com"}
    with pytest.raises(ConfigurationError) as refused:
        AuthConfig.from_mapping(values)
    assert str(refused.value) == (
        "OSCAL_AUTH_ISSUER_URL='http://b.example.com' is plain http to a host that is not loopback; use https, "
        "or set OSCAL_AUTH_ALLOW_INSECURE_HTTP=true on a network you trust"
    )
