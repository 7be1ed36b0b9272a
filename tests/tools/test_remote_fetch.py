"""The remote fetch's guarantees over real loopback HTTP(S): certificates are verified against the URL's
name, the size limit holds before and while the body is read, and the connection is shut at the
deadline. The public-address check is lifted for 127.0.0.1 here only (`open_to_loopback`)."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import anyio
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from oscal_mcp.oscal import remote
from oscal_mcp.oscal.errors import AccessError
from oscal_mcp.oscal.text import clip

pytestmark = pytest.mark.anyio
BODY = b'{"catalog": {}}'
MAX = 100_000


class Handler(BaseHTTPRequestHandler):
    hung_up: ClassVar[threading.Event] = threading.Event()
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        Handler.seen.append(dict(self.headers.items()))
        route, _, value = self.path.partition("?")
        if route == "/status":
            self.send_response(int(value))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "/redirect":
            self.send_response(int(value))
            if value != "307":
                self.send_header("Location", "https://elsewhere.example/doc.json")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "/encoded":
            self.send_response(200)
            self.send_header("Content-Encoding", value.replace("+", " "))
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        elif self.path == "/doc.json":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        elif self.path == "/declared-huge":  # declares 10 MB, sends 100 bytes, then nothing until released
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024 * 1024))
            self.end_headers()
            self.wfile.write(b"x" * 100)
            self.wfile.flush()
            Handler.hung_up.wait(10)
        elif self.path == "/endless":  # no length, more bytes than any limit, as fast as taken
            self.send_response(200)
            self.end_headers()
            self._trickle(b"x" * 65_536, rounds=100, pause=0)
        elif self.path == "/then-hang":  # one byte more than the limit, then nothing until the client leaves
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * (MAX + 1))
            self.wfile.flush()
            Handler.hung_up.wait(10)
        elif self.path == "/trickle":
            self.send_response(200)
            self.end_headers()
            self._trickle(b" ", rounds=100, pause=0.1)

    def _trickle(self, chunk: bytes, rounds: int, pause: float = 0.05) -> None:
        try:
            for _ in range(rounds):
                self.wfile.write(chunk)
                self.wfile.flush()
                if pause:
                    Handler.hung_up.wait(pause)
        except OSError:
            Handler.hung_up.set()

    def log_message(self, *args: object) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hangs up on purpose (size and time limits, refused certificates)


@pytest.fixture
def open_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = remote.address_problem
    loopback = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(remote, "address_problem", lambda address: None if address == loopback else checked(address))


def serve(tls: ssl.SSLContext | None = None) -> Iterator[int]:
    Handler.hung_up = threading.Event()
    Handler.seen = []
    server = QuietServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def port(open_to_loopback: None) -> Iterator[int]:
    yield from serve()


def certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_port(tmp_path: Path, open_to_loopback: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Path]]:
    """An https server on 127.0.0.1 whose certificate names oscal.test, which resolves to 127.0.0.1."""
    cert, key = certificate(tmp_path, "oscal.test")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if (host.decode() if isinstance(host, bytes) else host) in ("oscal.test", "other.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for port in serve(server_context):
        yield port, cert


def trusting(monkeypatch: pytest.MonkeyPatch, ca: Path) -> None:
    """The server's own certificate added to what the default context trusts (like a private CA)."""
    default = ssl.create_default_context

    def with_ca(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = default(*args, **kwargs)
        context.load_verify_locations(cafile=str(ca))
        return context

    monkeypatch.setattr(ssl, "create_default_context", with_ca)


async def test_an_https_server_with_an_untrusted_certificate_is_refused(tls_port: tuple[int, Path]) -> None:
    port, _ = tls_port
    with pytest.raises(AccessError, match="could not be fetched: SSLCertVerificationError"):
        await remote.fetch_remote(f"https://oscal.test:{port}/doc.json", timeout_seconds=5, max_bytes=MAX)


async def test_a_trusted_certificate_must_name_the_host_of_the_url(
    tls_port: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ca = tls_port
    trusting(monkeypatch, ca)
    assert await remote.fetch_remote(f"https://oscal.test:{port}/doc.json", timeout_seconds=5, max_bytes=MAX) == BODY
    with pytest.raises(AccessError, match=r"SSLCertVerificationError.*(Hostname mismatch|doesn't match)"):
        await remote.fetch_remote(f"https://other.test:{port}/doc.json", timeout_seconds=5, max_bytes=MAX)


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(port: int) -> None:
    with pytest.raises(AccessError) as refused:
        await remote.fetch_remote(f"http://127.0.0.1:{port}/declared-huge", timeout_seconds=2, max_bytes=MAX)
    Handler.hung_up.set()  # refused at once, from the declared length: no waiting for the body
    assert str(refused.value) == (
        f"'http://127.0.0.1:{port}/declared-huge' is too large: {10 * 1024 * 1024} bytes, the limit is {MAX} bytes "
        "(OSCAL_MAX_DOCUMENT_BYTES)"
    )


async def test_an_endless_body_is_cut_at_the_limit(port: int) -> None:
    with pytest.raises(AccessError, match=f"sent more than {MAX} bytes"):
        await remote.fetch_remote(f"http://127.0.0.1:{port}/endless", timeout_seconds=5, max_bytes=MAX)


async def test_a_body_of_exactly_the_limit_is_accepted(port: int) -> None:
    assert (
        await remote.fetch_remote(f"http://127.0.0.1:{port}/doc.json", timeout_seconds=5, max_bytes=len(BODY)) == BODY
    )
    with pytest.raises(AccessError, match="OSCAL_MAX_DOCUMENT_BYTES"):
        await remote.fetch_remote(f"http://127.0.0.1:{port}/doc.json", timeout_seconds=5, max_bytes=len(BODY) - 1)


async def test_the_connection_is_shut_when_the_deadline_passes(port: int) -> None:
    """The server trickles its answer for 10 s and closes after it (HTTP/1.0, no length): when the
    deadline passes, the server must see the client hang up, not a reader that goes on."""
    with pytest.raises(AccessError, match=r"did not answer within 1\.5 s"):
        await remote.fetch_remote(f"http://127.0.0.1:{port}/trickle", timeout_seconds=1.5, max_bytes=MAX)
    assert Handler.hung_up.wait(5)


async def test_the_request_asks_for_an_uncompressed_document(port: int) -> None:
    await remote.fetch_remote(f"http://127.0.0.1:{port}/doc.json", timeout_seconds=5, max_bytes=MAX)
    (headers,) = Handler.seen
    assert headers["Host"] == f"127.0.0.1:{port}"
    assert headers["Accept"] == "application/json, application/yaml;q=0.9, */*;q=0.1"
    assert headers["Accept-Encoding"] == "identity"
    assert headers["User-Agent"] == "oscal-mcp"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_not_followed_but_named(port: int, status: int) -> None:
    url = f"http://127.0.0.1:{port}/redirect?{status}"
    with pytest.raises(AccessError) as refused:
        await remote.fetch_remote(url, timeout_seconds=5, max_bytes=MAX)
    location = "?" if status == 307 else "https://elsewhere.example/doc.json"
    assert str(refused.value) == f"{url!r} redirects ({status}) to {location!r}; pass that URL instead"
    assert len(Handler.seen) == 1


@pytest.mark.parametrize("status", [204, 304, 404, 500])
async def test_any_other_status_than_200_is_named(port: int, status: int) -> None:
    url = f"http://127.0.0.1:{port}/status?{status}"
    with pytest.raises(AccessError) as refused:
        await remote.fetch_remote(url, timeout_seconds=5, max_bytes=MAX)
    assert str(refused.value) == f"{url!r} answered HTTP {status}"


@pytest.mark.parametrize(
    ("encoding", "accepted"),
    [("identity", True), ("+Identity+", True), ("gzip", False), ("identity,+br", False), ("x-custom", False),
     ("identity,+identity", True), ("identity+gzip", False)],
)  # fmt: skip
async def test_only_an_identity_content_encoding_is_read(port: int, encoding: str, accepted: bool) -> None:
    url = f"http://127.0.0.1:{port}/encoded?{encoding}"
    if accepted:
        assert await remote.fetch_remote(url, timeout_seconds=5, max_bytes=MAX) == BODY
        return
    with pytest.raises(AccessError) as refused:
        await remote.fetch_remote(url, timeout_seconds=5, max_bytes=MAX)
    assert str(refused.value) == (
        f"{url!r} answered with Content-Encoding {encoding.replace('+', ' ')!r} although only identity was "
        "accepted; compressed responses are refused"
    )


async def test_a_connection_that_fails_is_named_with_its_cause(open_to_loopback: None) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}/doc.json"
    with pytest.raises(AccessError) as refused:
        await remote.fetch_remote(url, timeout_seconds=5, max_bytes=MAX)
    assert str(refused.value).startswith(f"{url!r} could not be fetched: ConnectionRefusedError: ")


def test_each_socket_operation_is_bounded_by_the_timeout_too() -> None:
    assert remote._Connection("127.0.0.1", 80, 2.5).timeout == 2.5
    assert remote._TLSToAddress("127.0.0.1", 443, 2.5, "oscal.test").timeout == 2.5


def test_a_connection_aborted_before_it_connects_never_does(port: int) -> None:
    connection = remote._Connection("127.0.0.1", port, 5)
    connection.shut()
    with pytest.raises(OSError, match=r"^the deadline passed$"):
        connection.connect()
    connection.shut()  # shutting an already shut connection is harmless
    assert connection.sock is None


def test_a_long_content_encoding_is_shown_cut(port: int) -> None:
    value = "x" * 80
    url = f"http://127.0.0.1:{port}/encoded?{value}"
    with pytest.raises(AccessError) as refused:
        anyio.run(lambda: remote.fetch_remote(url, timeout_seconds=5, max_bytes=MAX))
    assert f"Content-Encoding {clip(value, 60)!r} although" in str(refused.value)


async def test_reading_stops_one_byte_past_the_limit_without_waiting_for_the_end(port: int) -> None:
    url = f"http://127.0.0.1:{port}/then-hang"
    with pytest.raises(AccessError) as refused:
        await remote.fetch_remote(url, timeout_seconds=5, max_bytes=MAX)
    assert str(refused.value) == f"{url!r} sent more than {MAX} bytes (OSCAL_MAX_DOCUMENT_BYTES)"
    Handler.hung_up.set()


def test_the_exchange_bounds_each_socket_operation_by_the_timeout() -> None:
    address = ipaddress.ip_address("127.0.0.1")
    for url in ("http://oscal.test/x", "https://oscal.test/x"):
        exchange = remote._Exchange(remote.parse_remote_url(url), address, 2.5, MAX)
        assert exchange.connection.timeout == 2.5


async def test_a_garbled_answer_is_named_cut_to_200_characters(open_to_loopback: None) -> None:
    status_line = "HTTP/1.1 " + "x" * 300
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(status_line.encode() + b"\r\n\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
        with pytest.raises(AccessError) as refused:
            await remote.fetch_remote(url, timeout_seconds=5, max_bytes=MAX)
        thread.join(5)
    assert str(refused.value).startswith(f"{url!r} could not be fetched: BadStatusLine: ")
    assert str(refused.value).endswith(clip(status_line + "\r\n", 200))


async def test_a_name_that_resolves_too_slowly_is_the_deadline_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow_getaddrinfo(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80))]

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    with pytest.raises(AccessError) as refused:
        await remote.fetch_remote("http://slow.test/x", timeout_seconds=0.2, max_bytes=MAX)
    assert str(refused.value) == "'http://slow.test/x' did not answer within 0.2 s (OSCAL_REMOTE_TIMEOUT_SECONDS)"


async def test_the_fetch_gives_its_timeout_to_each_socket_operation(port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    exchanges: list[Any] = []
    exchange_class = remote._Exchange

    def recorded(*args: Any) -> Any:
        exchanges.append(exchange_class(*args))
        return exchanges[-1]

    monkeypatch.setattr(remote, "_Exchange", recorded)
    await remote.fetch_remote(f"http://127.0.0.1:{port}/doc.json", timeout_seconds=4.5, max_bytes=MAX)
    assert exchanges[0].connection.timeout == 4.5
