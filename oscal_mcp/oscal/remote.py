"""Fetching a document from a public http(s) URL with the standard library only.

Only hosts whose every address is public are fetched, so a caller cannot use the server to read
loopback, private-network or cloud-metadata endpoints. The name is resolved once and the request
goes to the address that was checked (with the name in ``Host`` and, for https, in SNI and
certificate verification), so a second, different DNS answer cannot redirect it (DNS rebinding).
Redirects are not followed, compressed responses are refused (the size limit applies to the bytes
received), and the whole exchange has one deadline: when it passes, the connection is shut down,
so a server that trickles its answer cannot hold a worker thread.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import anyio
from anyio import to_thread

from oscal_mcp.oscal.errors import AccessError
from oscal_mcp.oscal.files import MAX_SHOWN_PATH_CHARS, too_large
from oscal_mcp.oscal.text import clip

MAX_URL_CHARS = 4096
_SCHEMES = {"http": 80, "https": 443}
_REDIRECTS = (301, 302, 303, 307, 308)
_HOST_NAME = re.compile(r"[A-Za-z0-9_.-]{1,253}")  # after IDNA encoding; no %-escapes, no spaces
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
# Address ranges that carry (or translate to) another address, so is_global says nothing about where
# a connection ends up: NAT64 (RFC 6052, RFC 8215), 6to4 (RFC 3056) and IPv4-compatible IPv6.
_TRANSLATED: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (ipaddress.IPv6Network("64:ff9b::/96"), "NAT64"),
    (ipaddress.IPv6Network("64:ff9b:1::/48"), "local-use NAT64"),
    (ipaddress.IPv6Network("2002::/16"), "6to4"),
    (ipaddress.IPv6Network("::/96"), "IPv4-compatible IPv6"),
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class RemoteTarget:
    """A checked http(s) URL: `host` is ASCII (IDNA-encoded) or an IP literal without brackets."""

    url: str
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _SCHEMES[self.scheme] else f"{host}:{self.port}"


def is_remote(raw: str) -> bool:
    return raw.strip().lower().startswith(("http://", "https://"))


def shown_url(url: str) -> str:
    return repr(clip(url.strip(), MAX_SHOWN_PATH_CHARS))


def parse_remote_url(url: str) -> RemoteTarget:
    """The parts of an http(s) URL, or AccessError saying what is wrong with it."""
    text = url.strip()
    if len(text) > MAX_URL_CHARS:
        raise AccessError(f"the URL is {len(text)} characters long; at most {MAX_URL_CHARS} are accepted")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in text):
        raise AccessError(f"{shown_url(text)} contains spaces or control characters; percent-encode them")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise AccessError(f"{shown_url(text)} is not a valid URL: {clip(str(exc), 200)}") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not parts.netloc:
        raise AccessError(f"{shown_url(text)} is not an http:// or https:// URL")
    if "@" in parts.netloc:
        raise AccessError("URLs with credentials (user:password@) are not accepted")
    raw_host, port = _host_and_port(text, parts.netloc)
    host = _ascii_host(text, raw_host)
    target = quote(parts.path, safe=_PATH_SAFE) or "/"
    if parts.query:
        target += "?" + quote(parts.query, safe=_PATH_SAFE + "?")
    return RemoteTarget(text, scheme, host, port or _SCHEMES[scheme], target)


def _host_and_port(text: str, netloc: str) -> tuple[str, int | None]:
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        port_text = rest.removeprefix(":") if rest.startswith(":") else rest
    else:
        host, _, port_text = netloc.partition(":")
    if not port_text:
        return host, None
    if not port_text.isascii() or not port_text.isdigit():
        raise AccessError(f"{shown_url(text)} is not a valid URL: the port is not a number")
    port = int(port_text)
    if not 0 < port < 65536:
        raise AccessError(f"{shown_url(text)} has port {port}; ports are 1 to 65535")
    return host, port


def _ascii_host(text: str, host: str) -> str:
    """The host as sent: an IP literal, or the name IDNA-encoded; symbols are refused as IDNA 2008 does."""
    if ip_literal(host) is not None:
        return host
    if not host:
        raise AccessError(f"{shown_url(text)} is not an http:// or https:// URL")
    if not host.isascii():
        labels = host.split(".")
        if any(not all(char == "-" or unicodedata.category(char)[0] in "LMN" for char in label) for label in labels):
            raise AccessError(f"{shown_url(text)} is not a valid URL: its host is not a valid IDNA name")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:  # the codec's own words differ between Python releases
            raise AccessError(
                f"{shown_url(text)} is not a valid URL: its host is not a valid IDNA name "
                "(each label 1 to 63 characters once encoded)"
            ) from None
    if not _HOST_NAME.fullmatch(host):
        raise AccessError(f"{shown_url(text)} has an invalid host name")
    return host.lower()


def ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve_public_host(host: str, port: int) -> IPAddress:
    """The address to connect to: the first of `host`'s addresses, provided every one is public."""
    literal = ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise AccessError(f"host {host!r} cannot be resolved: {exc}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise AccessError(f"host {host!r} has no address")
    checked = [_effective(address) for address in addresses]
    for address in checked:
        problem = address_problem(address)
        if problem is not None:
            raise AccessError(f"host {host!r} resolves to {problem}; only public hosts are fetched")
    return checked[0]


def _effective(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) is the IPv4 address it maps."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_problem(address: IPAddress) -> str | None:
    """Why a connection to `address` is refused, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        for network, kind in _TRANSLATED:
            if address in network:
                embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
                if kind == "6to4" and address.sixtofour is not None:
                    embedded = address.sixtofour
                return f"a {kind} address ({address}, embedding {embedded}), which is not fetched"
    if not address.is_global or address.is_multicast:
        return f"a non-public address ({address})"
    return None


async def fetch_remote(url: str, *, timeout_seconds: float, max_bytes: int) -> bytes:
    """GET `url` within `timeout_seconds` in total and `max_bytes`; AccessError saying why otherwise."""
    target = parse_remote_url(url)
    exchange: _Exchange | None = None
    with anyio.move_on_after(timeout_seconds) as deadline:
        address = await resolve_public_host(target.host, target.port)
        exchange = _Exchange(target, address, timeout_seconds, max_bytes)
        return await to_thread.run_sync(exchange.run, abandon_on_cancel=True)
    if exchange is not None and deadline.cancelled_caught:
        exchange.abort()
    raise AccessError(f"{shown_url(url)} did not answer within {timeout_seconds:g} s (OSCAL_REMOTE_TIMEOUT_SECONDS)")


class _Connection(http.client.HTTPConnection):
    """HTTP to a checked address, keeping the socket it opened: http.client hands the socket over to
    the response (and forgets it) when the server closes after the body, and `abort` must still
    reach it then. Once aborted, it never connects."""

    def __init__(self, address: str, port: int, timeout: float) -> None:
        super().__init__(address, port, timeout=timeout)
        self.opened: socket.socket | None = None
        self.aborted = False

    def connect(self) -> None:
        super().connect()
        self.sock = self.opened = self._secured(self.sock)
        if self.aborted:  # the deadline passed while connecting
            self.shut()
            raise OSError("the deadline passed")

    def _secured(self, sock: socket.socket) -> socket.socket:
        return sock

    def shut(self) -> None:
        """Shut the opened socket down, whoever holds it, so that a blocked read returns at once."""
        self.aborted = True
        if self.opened is not None:
            with contextlib.suppress(OSError):  # already closed
                self.opened.shutdown(socket.SHUT_RDWR)
        self.close()


class _TLSToAddress(_Connection):
    """HTTPS to a checked address, with the host name for SNI and certificate verification."""

    default_port = 443

    def __init__(self, address: str, port: int, timeout: float, server_name: str) -> None:
        super().__init__(address, port, timeout)
        self.server_name = server_name
        self.tls = ssl.create_default_context()

    def _secured(self, sock: socket.socket) -> socket.socket:
        return self.tls.wrap_socket(sock, server_hostname=self.server_name)


class _Exchange:
    """One GET, run in a worker thread; `abort` (from any thread) ends it at once."""

    def __init__(self, target: RemoteTarget, address: IPAddress, timeout: float, max_bytes: int) -> None:
        self.target = target
        self.max_bytes = max_bytes
        literal = str(address)
        if target.scheme == "https":
            self.connection: _Connection = _TLSToAddress(literal, target.port, timeout, target.host)
        else:
            self.connection = _Connection(literal, target.port, timeout)

    def abort(self) -> None:
        self.connection.shut()

    def run(self) -> bytes:
        shown = shown_url(self.target.url)
        try:
            return self._get(shown)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise AccessError(f"{shown} could not be fetched: {type(exc).__name__}: {clip(str(exc), 200)}") from None
        finally:
            self.connection.close()

    def _get(self, shown: str) -> bytes:
        headers = {
            "Host": self.target.host_header,
            "Accept": "application/json, application/yaml;q=0.9, */*;q=0.1",
            "Accept-Encoding": "identity",
            "User-Agent": "oscal-mcp",
        }
        self.connection.request("GET", self.target.target, headers=headers)
        response = self.connection.getresponse()
        if response.status in _REDIRECTS:
            location = clip(response.getheader("location", "?"), MAX_SHOWN_PATH_CHARS)
            raise AccessError(f"{shown} redirects ({response.status}) to {location!r}; pass that URL instead")
        if response.status != 200:
            raise AccessError(f"{shown} answered HTTP {response.status}")
        _check_encoding(shown, response.getheader("content-encoding"))
        declared = response.getheader("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise AccessError(too_large(self.target.url, int(declared), self.max_bytes, "OSCAL_MAX_DOCUMENT_BYTES"))
        body = response.read(self.max_bytes + 1)  # http.client reads until that many bytes or the end
        if len(body) > self.max_bytes:
            raise AccessError(f"{shown} sent more than {self.max_bytes} bytes (OSCAL_MAX_DOCUMENT_BYTES)")
        return body


def _check_encoding(shown: str, encoding: str | None) -> None:
    codings = [part.strip().lower() for part in (encoding or "").split(",") if part.strip()]
    if any(coding != "identity" for coding in codings):
        raise AccessError(
            f"{shown} answered with Content-Encoding {clip(encoding or '', 60)!r} although only identity "
            "was accepted; compressed responses are refused"
        )
