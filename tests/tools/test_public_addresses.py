"""Which addresses a remote fetch may connect to, over the address space (hypothesis): only public
unicast ones. The verdict is checked against networks listed here from the IANA special-purpose
registries, written separately from the code's use of ``is_global``."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import anyio
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from oscal_mcp.oscal.errors import AccessError
from oscal_mcp.oscal.remote import address_problem, resolve_public_host

# Not fetched: private, shared (CGNAT, RFC 6598), loopback, link-local, documentation, benchmarking,
# "this network", reserved, multicast, and IPv6 ranges that embed or translate another address.
NOT_PUBLIC = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
    "240.0.0.0/4", "224.0.0.0/4",
    "::1/128", "fc00::/7", "fe80::/10", "2001:db8::/32", "ff00::/8", "64:ff9b::/96", "64:ff9b:1::/48",
    "2002::/16", "::/96",
]  # fmt: skip
# Public, several of them right next to a range above (100.0/10 and 100.128/9 around CGNAT).
PUBLIC = [
    "1.1.1.0/24", "8.8.0.0/16", "93.184.0.0/16", "100.0.0.0/10", "100.128.0.0/9", "172.32.0.0/11",
    "11.0.0.0/8", "126.0.0.0/8", "128.0.0.0/8", "169.253.0.0/16", "198.20.0.0/14", "223.0.0.0/8",
    "2606:4700::/32", "2a00:1450::/32", "2001:4860::/32",
]  # fmt: skip


@st.composite
def addresses(draw: st.DrawFn) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, bool]:
    """An address in one of the networks above, and whether it is public (about half are)."""
    public = draw(st.booleans())
    network = ipaddress.ip_network(draw(st.sampled_from(PUBLIC if public else NOT_PUBLIC)))
    offset = draw(st.integers(min_value=0, max_value=network.num_addresses - 1))
    return network[offset], public


@given(case=addresses())
def test_only_public_unicast_addresses_are_fetched(
    case: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, bool],
) -> None:
    address, public = case
    event("public" if public else "refused")
    assert (address_problem(address) is None) is public, address
    if public:
        assert anyio.run(resolve_public_host, str(address), 443) == address
    else:
        with pytest.raises(AccessError, match="only public hosts are fetched"):
            anyio.run(resolve_public_host, str(address), 443)


@given(case=addresses().filter(lambda case: case[0].version == 4))
def test_an_ipv4_mapped_address_is_judged_as_the_ipv4_address(case: tuple[ipaddress.IPv4Address, bool]) -> None:
    address, public = case
    mapped = f"::ffff:{address}"
    if public:
        assert anyio.run(resolve_public_host, mapped, 443) == address
    else:
        with pytest.raises(AccessError, match=f"non-public address \\({address}\\)"):
            anyio.run(resolve_public_host, mapped, 443)


@pytest.mark.parametrize("address", ["100.64.0.0", "100.127.255.255", "100.100.100.200"])
def test_shared_address_space_is_not_public(address: str) -> None:
    """RFC 6598's 100.64.0.0/10 (carrier-grade NAT, and some clouds' metadata services) is neither
    private nor global: the check must be "not global", not "private"."""
    assert address_problem(ipaddress.ip_address(address)) == f"a non-public address ({address})"


def test_a_name_is_refused_if_any_of_its_addresses_is_not_public(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {
        "mixed.test": ["93.184.215.14", "2606:4700::1", "100.64.1.1"],
        "public.test": ["93.184.215.14", "::ffff:8.8.8.8"],
    }

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port))) for address in answers[name]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(AccessError) as refused:
        anyio.run(resolve_public_host, "mixed.test", 443)
    assert str(refused.value) == (
        "host 'mixed.test' resolves to a non-public address (100.64.1.1); only public hosts are fetched"
    )
    assert anyio.run(resolve_public_host, "public.test", 443) == ipaddress.ip_address("93.184.215.14")
    with pytest.raises(AccessError) as unknown:
        anyio.run(resolve_public_host, "nowhere.test", 443)
    assert str(unknown.value) == "host 'nowhere.test' cannot be resolved: [Errno -2] Name or service not known"
    answers["empty.test"] = []
    with pytest.raises(AccessError) as empty:
        anyio.run(resolve_public_host, "empty.test", 443)
    assert str(empty.value) == "host 'empty.test' has no address"
