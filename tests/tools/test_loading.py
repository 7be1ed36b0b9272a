from __future__ import annotations

import gzip
import io
import ipaddress
import json
import re
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from oscal_mcp.oscal import remote
from oscal_mcp.oscal.archives import ArchiveLimits, read_zip_members
from oscal_mcp.oscal.documents import parse_document
from oscal_mcp.oscal.errors import AccessError, DocumentError
from tests.tools.conftest import Connect, error_text, structured
from tests.tools.documents import catalog

LIMITS = ArchiveLimits(max_member_bytes=1 << 20, max_total_bytes=4 << 20)


def write_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_zip_of_json_files_is_read(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "a.zip", {"one.json": b"{}", "sub/two.json": b"[]", "readme.txt": b"hi"})
    assert read_zip_members(path, LIMITS) == [("one.json", b"{}"), ("sub/two.json", b"[]")]


@pytest.mark.parametrize(
    "member", ["../evil.json", "/etc/evil.json", "a/../../evil.json", "c:/evil.json", "a\\..\\evil.json"]
)
def test_a_member_path_that_leaves_the_archive_refuses_the_archive(tmp_path: Path, member: str) -> None:
    path = write_zip(tmp_path / "bad.zip", {"ok.json": b"{}", member: b"{}"})
    with pytest.raises(AccessError, match="leaves the archive"):
        read_zip_members(path, LIMITS)


def test_a_zip_bomb_is_refused_by_its_compression_ratio(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "bomb.zip", {"bomb.json": b" " * (900 << 10)})
    with pytest.raises(AccessError, match="zip bomb"):
        read_zip_members(path, LIMITS)


def test_a_member_above_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "big.zip", {"big.json": b"{}" * (1 << 20)}, zipfile.ZIP_STORED)
    with pytest.raises(AccessError, match="too large"):
        read_zip_members(path, LIMITS)


def test_a_total_above_the_archive_limit_is_refused(tmp_path: Path) -> None:
    members = {f"m{i}.json": bytes(range(256)) * 3000 for i in range(8)}
    path = write_zip(tmp_path / "many.zip", members, zipfile.ZIP_STORED)
    with pytest.raises(AccessError, match="OSCAL_MAX_ARCHIVE_BYTES"):
        read_zip_members(path, ArchiveLimits(max_member_bytes=1 << 20, max_total_bytes=2 << 20))


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "crowd.zip", {f"m{i}.json": b"{}" for i in range(20)})
    with pytest.raises(AccessError, match="entries"):
        read_zip_members(path, ArchiveLimits(max_member_bytes=1024, max_total_bytes=1 << 20, max_members=10))


def test_a_corrupt_archive_is_an_access_error(tmp_path: Path) -> None:
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(AccessError, match="not a readable zip archive"):
        read_zip_members(tmp_path / "junk.zip", LIMITS)


def test_lying_declared_sizes_are_caught_while_reading(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.json", b"{" + b" " * 5000 + b"}")
    data = bytearray(buffer.getvalue())
    # Rewrite the declared uncompressed size (local header offset 22, central directory +24) to 10 bytes.
    data[22:26] = (10).to_bytes(4, "little")
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    (tmp_path / "liar.zip").write_bytes(bytes(data))
    with pytest.raises(AccessError):
        read_zip_members(tmp_path / "liar.zip", LIMITS)


def test_invalid_utf8_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="UTF-8"):
        parse_document(b'{"a": "\xff"}', "json")


def test_yaml_keys_become_strings() -> None:
    assert parse_document("2: a\ntrue: b\n~: c\nd: 2025-01-01", "yaml") == {
        "2": "a",
        "true": "b",
        "null": "c",
        "d": "2025-01-01",
    }


# -- remote URIs over a real local HTTP server -------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    body = json.dumps(catalog()).encode()
    seen: ClassVar[list[tuple[str, dict[str, str]]]] = []  # (path, headers) of every request, reset per server

    def do_GET(self) -> None:
        Handler.seen.append((self.path, dict(self.headers.items())))
        route = self.path.split("?", 1)[0]
        if route == "/gzip":
            compressed = gzip.compress(self.body)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(compressed)))
            self.end_headers()
            self.wfile.write(compressed)
        elif route == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/catalog.json")
            self.end_headers()
        elif route == "/slow":
            self.send_response(200)
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        elif route == "/catalog.json":
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)
        elif route == "/chunked-big":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b" " * 200_000)
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hangs up on purpose (size and time limits)


@pytest.fixture
def http_base(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local HTTP server; the public-address check is lifted for 127.0.0.1 in these tests only."""
    checked = remote.address_problem
    loopback = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(remote, "address_problem", lambda address: None if address == loopback else checked(address))
    yield from serve()


def serve() -> Iterator[str]:
    Handler.seen = []
    server = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.anyio
async def test_a_remote_document_is_fetched_and_validated_when_enabled(connect: Connect, http_base: str) -> None:
    async with connect(OSCAL_ALLOW_REMOTE_URIS="true") as client:
        result = structured(await client.call_tool("validate_oscal_file", {"path": f"{http_base}/catalog.json"}))
    assert result["valid"] is True and result["source"] == f"{http_base}/catalog.json"


@pytest.mark.anyio
async def test_remote_redirects_errors_sizes_and_timeouts_are_reported(http_base: str) -> None:
    with pytest.raises(AccessError, match="redirects"):
        await remote.fetch_remote(f"{http_base}/redirect", timeout_seconds=5, max_bytes=1 << 20)
    with pytest.raises(AccessError, match="HTTP 404"):
        await remote.fetch_remote(f"{http_base}/missing", timeout_seconds=5, max_bytes=1 << 20)
    with pytest.raises(AccessError, match="OSCAL_MAX_DOCUMENT_BYTES"):
        await remote.fetch_remote(f"{http_base}/catalog.json", timeout_seconds=5, max_bytes=1024)
    with pytest.raises(AccessError, match="more than 100000 bytes"):
        await remote.fetch_remote(f"{http_base}/chunked-big", timeout_seconds=5, max_bytes=100_000)
    with pytest.raises(AccessError, match="did not answer within 1 s"):  # /slow takes 5 s
        await remote.fetch_remote(f"{http_base}/slow", timeout_seconds=1, max_bytes=1 << 20)


@pytest.mark.anyio
async def test_urls_with_credentials_or_other_schemes_are_refused() -> None:
    with pytest.raises(AccessError, match="credentials"):
        await remote.fetch_remote("https://user:pw@example.org/x.json", timeout_seconds=1, max_bytes=10)
    with pytest.raises(AccessError, match="not an http"):
        await remote.fetch_remote("ftp://example.org/x.json", timeout_seconds=1, max_bytes=10)


def test_corrupt_compressed_data_is_an_access_error(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "a.zip", {"x.json": b'{"a": "' + b"y" * 5000 + b'"}'})
    data = bytearray(path.read_bytes())
    start = 30 + len("x.json")  # the local header is 30 bytes plus the name; then the deflate stream
    data[start : start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(AccessError):
        read_zip_members(path, LIMITS)


# -- DNS rebinding and address checks --------------------------------------------------------------

PUBLIC = "93.184.215.14"  # a global unicast address; nothing in these tests expects it to answer


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Patch socket.getaddrinfo: the n-th lookup of a name gets its n-th answer (the last one after that).

    Every other name (and numeric addresses) resolves as usual. Returns the names looked up, in order.
    """
    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return real(host, port, *args, **kwargs)
        answer = answers[name][min(lookups.count(name), len(answers[name]) - 1)]
        lookups.append(name)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0))) for address in answer]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


@pytest.fixture
def local_server() -> Iterator[str]:
    """A local HTTP server with the public-address check in force."""
    yield from serve()


@pytest.mark.anyio
async def test_dns_rebinding_never_reaches_a_loopback_server(
    monkeypatch: pytest.MonkeyPatch, local_server: str
) -> None:
    port = local_server.rsplit(":", 1)[1]
    lookups = fake_dns(monkeypatch, {"rebind.test": [[PUBLIC], ["127.0.0.1"]]})
    with pytest.raises(AccessError):
        await remote.fetch_remote(f"http://rebind.test:{port}/catalog.json", timeout_seconds=1, max_bytes=1 << 20)
    assert Handler.seen == []  # the connection went to the address that was checked, never to 127.0.0.1
    assert lookups == ["rebind.test"]  # resolved once


@pytest.mark.anyio
async def test_the_checked_address_is_fetched_with_the_name_in_host(
    monkeypatch: pytest.MonkeyPatch, http_base: str
) -> None:
    port = http_base.rsplit(":", 1)[1]
    fake_dns(monkeypatch, {"oscal.test": [["127.0.0.1"]]})
    body = await remote.fetch_remote(f"http://oscal.test:{port}/catalog.json?v=1", timeout_seconds=5, max_bytes=1 << 20)
    assert body == Handler.body
    ((path, headers),) = Handler.seen
    assert path == "/catalog.json?v=1"
    assert headers["Host"] == f"oscal.test:{port}"
    assert headers["Accept-Encoding"] == "identity"


@pytest.mark.anyio
async def test_a_compressed_response_is_refused(http_base: str) -> None:
    with pytest.raises(AccessError, match="compressed responses are refused"):
        await remote.fetch_remote(f"{http_base}/gzip", timeout_seconds=5, max_bytes=1 << 20)


@pytest.mark.anyio
async def test_every_resolved_address_must_be_public(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"mixed.test": [[PUBLIC, "10.0.0.7"]]})
    with pytest.raises(AccessError, match=r"non-public address \(10\.0\.0\.7\)"):
        await remote.fetch_remote("http://mixed.test/catalog.json", timeout_seconds=2, max_bytes=1 << 20)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("[64:ff9b::7f00:1]", "NAT64 address (64:ff9b::7f00:1, embedding 127.0.0.1)"),
        ("[64:ff9b::808:808]", "NAT64 address"),  # refused even when it embeds a public address
        ("[64:ff9b:1::a00:1]", "local-use NAT64 address"),
        ("[2002:7f00:1::1]", "6to4 address (2002:7f00:1::1, embedding 127.0.0.1)"),
        ("[::7f00:1]", "IPv4-compatible IPv6 address (::7f00:1, embedding 127.0.0.1)"),
        ("[::ffff:127.0.0.1]", "non-public address (127.0.0.1)"),
        ("[::ffff:a9fe:a9fe]", "non-public address (169.254.169.254)"),
        ("224.0.0.1", "non-public address (224.0.0.1)"),
        ("[ff0e::1]", "non-public address (ff0e::1)"),
    ],
)
async def test_translated_mapped_and_multicast_addresses_are_refused(host: str, expected: str) -> None:
    with pytest.raises(AccessError, match=re.escape(expected)):
        await remote.fetch_remote(f"http://{host}/catalog.json", timeout_seconds=2, max_bytes=1 << 20)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com:abc/", "is not a valid URL"),
        ("http://example.com:99999/", "ports are 1 to 65535"),
        ("http://exa\x01mple.com/", "control characters"),
        ("http://exa mple.com/", "control characters"),
        ("http://" + "a" * 70_000 + ".com/", "at most 4096 are accepted"),
        ("http://\u2603.com/", "is not a valid URL"),  # not a valid IDNA name
        ("http://[::1/", "is not a valid URL"),
        ("http://exa%41mple.com/", "invalid host name"),
    ],
)
async def test_a_malformed_url_is_a_clear_error(connect: Connect, url: str, expected: str) -> None:
    async with connect(OSCAL_ALLOW_REMOTE_URIS="true") as client:
        result = await client.call_tool("validate_oscal_file", {"path": url})
    text = error_text(result)
    assert expected in text, text
    assert "Error executing tool validate_oscal_file:" in text  # a ToolError, not the opaque unexpected error
    assert len(text) < 1000


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_an_integer_with_too_many_digits_is_a_document_error(fmt: str) -> None:
    with pytest.raises(DocumentError, match="more than 4300 digits"):
        parse_document('{"a": ' + "1" * 5000 + "}", fmt)  # type: ignore[arg-type]
