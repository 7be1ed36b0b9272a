"""Reading OSCAL documents safely: parse JSON/YAML with line and column errors, read local files only
inside the configured roots (and only the files a `FilePolicy` allows, checked again on the file
actually opened), read .zip archives without trusting them, fetch remote URIs from public addresses
only (resolved once, connected to the checked address) with a timeout and a size limit.

Every failure is a `DocumentError` (the content is bad: a validation result) or an `AccessError`
(the request cannot be served: a tool error); both carry a message a caller can act on. Nothing
here raises anything else on bad input. All functions are synchronous except `fetch_remote`; the
tools call them through ``anyio.to_thread``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import stat
import sys
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

import anyio

from oscal_mcp.tools.text import clip

DocumentFormat = Literal["json", "yaml"]
FORMATS: tuple[DocumentFormat, ...] = ("json", "yaml")
# OSCAL documents nest about 15 levels deep (catalog > group > control > part > part ...). A bound
# keeps the recursive validators far from Python's recursion limit on hostile input.
MAX_NESTING = 100
MAX_ARCHIVE_MEMBERS = 1000
MAX_COMPRESSION_RATIO = 100
_READ_CHUNK = 1 << 20


class DocumentError(Exception):
    """The content is not a well-formed document; `line`/`column` are 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class AccessError(Exception):
    """A file, archive or URI cannot be read (missing, refused, too large...); the message says why."""


# -- parsing ---------------------------------------------------------------------------------------


def guess_format(name: str, data: bytes) -> DocumentFormat:
    """By file suffix, else by the first non-blank character (``{``/``[`` is JSON)."""
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    return "json" if data.lstrip()[:1] in (b"{", b"[") else "yaml"


def parse_document(data: bytes | str, fmt: DocumentFormat) -> Any:
    """Parse JSON or YAML into plain JSON data; DocumentError with line/column on failure."""
    try:
        parsed = _parse_json(data) if fmt == "json" else _parse_yaml(data)
    except RecursionError:
        raise DocumentError(f"the document nests more than {MAX_NESTING} levels deep") from None
    check_nesting(parsed)
    return parsed


def _parse_json(data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"malformed JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except UnicodeDecodeError as exc:
        raise DocumentError(f"the document is not valid UTF-8 (byte {exc.start})") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts (sys.get_int_max_str_digits)
        raise DocumentError(f"malformed JSON: {_value_problem(exc)}") from None


def _value_problem(exc: Exception) -> str:
    """A caller-facing reason for a ValueError raised while converting a scalar (never the value itself)."""
    if "integer string conversion" in str(exc):
        return f"a number has more than {sys.get_int_max_str_digits()} digits"
    return f"a value cannot be converted ({type(exc).__name__})"


def _parse_yaml(data: bytes | str) -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML ships with compliance-trestle's dependencies
        raise DocumentError("YAML support needs PyYAML: pip install pyyaml") from None
    try:
        loaded = yaml.load(data, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise DocumentError(f"malformed YAML: {exc.problem or exc}", line, column) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DocumentError(f"malformed YAML: {exc}") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a scalar the constructor cannot convert
        raise DocumentError(f"malformed YAML: {_value_problem(exc)}") from None
    return _plain(loaded)


@cache
def _yaml_loader() -> type[Any]:
    """A safe loader that keeps timestamps as the strings they are in OSCAL (not datetime objects)."""
    import yaml

    base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = {
        first: [(tag, regexp) for tag, regexp in entries if tag != "tag:yaml.org,2002:timestamp"]
        for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return type("OscalYamlLoader", (base,), {"yaml_implicit_resolvers": resolvers})


def _plain(loaded: Any) -> Any:
    """YAML data as JSON data: string keys, ISO dates; anchors/aliases (shared nodes) refused."""
    seen: set[int] = set()

    def convert(node: Any) -> Any:
        if isinstance(node, dict | list):
            if id(node) in seen:
                raise DocumentError("YAML anchors and aliases (& and *) are not supported in OSCAL documents")
            seen.add(id(node))
            if isinstance(node, list):
                return [convert(item) for item in node]
            return {_key(key): convert(value) for key, value in node.items()}
        if isinstance(node, datetime | date):
            return node.isoformat()
        return node

    return convert(loaded)


def _key(key: Any) -> str:
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    return str(key)


def check_nesting(document: Any, limit: int = MAX_NESTING) -> None:
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            raise DocumentError(f"the document nests more than {limit} levels deep")
        if isinstance(node, dict):
            pending.extend((value, depth + 1) for value in node.values() if isinstance(value, dict | list))
        elif isinstance(node, list):
            pending.extend((value, depth + 1) for value in node if isinstance(value, dict | list))


# -- local files -----------------------------------------------------------------------------------

DOCUMENT_SUFFIXES: tuple[str, ...] = (".json", ".yaml", ".yml")
MAX_SHOWN_PATH_CHARS = 200


@dataclass(frozen=True)
class FilePolicy:
    """Which local files may be read: inside one of `roots`, with one of `suffixes` (any when empty),
    and, unless `hidden`, with no name below the root starting with ``.`` (``.env``, ``.git/``...)."""

    roots: tuple[Path, ...]
    suffixes: tuple[str, ...] = ()
    hidden: bool = True

    def root_of(self, real: Path) -> Path | None:
        return next((root for root in self.roots if real == root or real.is_relative_to(root)), None)

    def problem(self, real: Path, *, is_dir: bool = False) -> str | None:
        """Why the real path `real` may not be read, or None. The suffix rule skips directories, which
        are refused when opened, with a message saying they are directories."""
        root = self.root_of(real)
        if root is None:
            allowed = ", ".join(str(r) for r in self.roots)
            return f"is outside the allowed file roots ({allowed})"
        hidden = next((part for part in real.relative_to(root).parts if part.startswith(".")), None)
        if hidden is not None and not self.hidden:
            return f"is refused: {clip(hidden, 60)!r} starts with '.', and hidden files and directories are never read"
        if self.suffixes and not is_dir and not real.name.lower().endswith(self.suffixes):
            return f"is refused: only files ending in {', '.join(self.suffixes)} are read"
        return None


def shown_path(raw: str) -> str:
    return repr(clip(raw.strip(), MAX_SHOWN_PATH_CHARS))


def resolve_local(raw: str, policy: FilePolicy) -> Path:
    """The real path of `raw` (relative paths are relative to the first root) if `policy` allows it.

    Symlinks and ``..`` are resolved first, so a link or a ``..`` that leaves every root, or that
    leads to a hidden file, is refused. Blocking (realpath): call it from a worker thread.
    """
    text = raw.strip()
    if not text or "\x00" in text:
        raise AccessError("the path is empty or contains a NUL character")
    candidate = Path(text)
    if not candidate.is_absolute():
        candidate = policy.roots[0] / candidate
    real = Path(os.path.realpath(candidate))
    problem = policy.problem(real, is_dir=real.is_dir())
    if problem is None:
        return real
    if policy.root_of(real) is None:
        problem += (
            "; symlinks and '..' are resolved before this check. "
            "Ask the operator to add the directory to OSCAL_FILE_ROOTS"
        )
    raise AccessError(f"{shown_path(text)} {problem}")


def read_local_file(path: Path, max_bytes: int, *, shown: str | None = None, policy: FilePolicy | None = None) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; AccessError otherwise.

    With a `policy`, the file actually opened must satisfy it too (see `_check_opened`).
    """
    name = shown or str(path)
    with _open_regular(path, name, policy) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise AccessError(_too_large(name, size, max_bytes, "OSCAL_MAX_DOCUMENT_BYTES"))
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise AccessError(_too_large(name, len(data), max_bytes, "OSCAL_MAX_DOCUMENT_BYTES"))
    return data


def _open_regular(path: Path, name: str, policy: FilePolicy | None = None) -> IO[bytes]:
    # O_NOFOLLOW: the resolved path's last component must not have become a symlink since; O_NONBLOCK:
    # opening a FIFO must not hang (it is refused below, like every non-regular file).
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise AccessError(f"{shown_path(name)} does not exist") from None
    except PermissionError:
        raise AccessError(f"{shown_path(name)} is not readable by the server") from None
    except OSError as exc:
        raise AccessError(f"{shown_path(name)} cannot be opened: {exc.strerror}") from None
    try:
        _check_opened(fd, name, policy)
    except AccessError:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _check_opened(fd: int, name: str, policy: FilePolicy | None) -> None:
    """Refuse what was opened unless it is a regular file that `policy` allows.

    O_NOFOLLOW only guards the last component: a directory of the path may have been swapped for a
    symlink between the check and the open. So the real path of the open descriptor is checked
    again, where the platform tells it (Linux: ``/proc/self/fd``); elsewhere only the checks made
    before opening apply.
    """
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise AccessError(f"{shown_path(name)} is {kind}; give the path of a JSON or YAML file")
    opened = opened_path(fd) if policy is not None else None
    if policy is None or opened is None:
        return
    problem = policy.problem(opened)
    if problem is not None:
        raise AccessError(
            f"{shown_path(name)} changed while it was being opened (a directory on its path was replaced?): "
            f"the file opened {problem}; refused"
        )


def opened_path(fd: int) -> Path | None:
    """The real path of an open file descriptor, or None where the platform does not tell it."""
    link = f"/proc/self/fd/{fd}"
    try:
        target = os.readlink(link)
    except OSError:
        return None
    return Path(os.path.realpath(link)) if target.startswith("/") else None


def _too_large(name: str, size: int, limit: int, setting: str) -> str:
    return f"{shown_path(name)} is too large: {size} bytes, the limit is {limit} bytes ({setting})"


# -- zip archives ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveLimits:
    max_member_bytes: int
    max_total_bytes: int
    max_members: int = MAX_ARCHIVE_MEMBERS
    max_ratio: int = MAX_COMPRESSION_RATIO


def read_zip_members(
    path: Path, limits: ArchiveLimits, suffixes: tuple[str, ...] = (".json",), *, policy: FilePolicy | None = None
) -> list[tuple[str, bytes]]:
    """The (name, bytes) of the archive's members with one of `suffixes`, read within `limits`.

    Refused as a whole (AccessError): more than `max_members` entries, a member whose name is absolute
    or contains ``..`` or a backslash, a member or total larger than the limits, a compression ratio
    above `max_ratio` (a zip bomb), encrypted or corrupt members. Nothing is extracted to disk. With
    a `policy`, the archive actually opened must satisfy it (as for `read_local_file`).
    """
    name = path.name
    with _open_regular(path, name, policy) as handle:
        if os.fstat(handle.fileno()).st_size > limits.max_total_bytes:
            raise AccessError(
                _too_large(name, os.fstat(handle.fileno()).st_size, limits.max_total_bytes, "OSCAL_MAX_ARCHIVE_BYTES")
            )
        try:
            with zipfile.ZipFile(handle) as archive:
                return _read_members(name, archive, limits, suffixes)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, OSError, ValueError) as exc:
            raise AccessError(f"{name!r} is not a readable zip archive: {exc}") from None
        except (RuntimeError, NotImplementedError) as exc:  # encrypted, unsupported compression
            raise AccessError(f"{name!r} has a member that cannot be read: {exc}") from None


def _read_members(
    name: str, archive: zipfile.ZipFile, limits: ArchiveLimits, suffixes: tuple[str, ...]
) -> list[tuple[str, bytes]]:
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise AccessError(f"{name!r} has {len(infos)} entries; at most {limits.max_members} are read")
    for info in infos:
        check_member_name(name, info.filename)
    wanted = [info for info in infos if not info.is_dir() and info.filename.lower().endswith(suffixes)]
    declared = sum(info.file_size for info in wanted)
    if declared > limits.max_total_bytes:
        raise AccessError(
            _too_large(name, declared, limits.max_total_bytes, "OSCAL_MAX_ARCHIVE_BYTES") + " uncompressed"
        )
    members: list[tuple[str, bytes]] = []
    budget = limits.max_total_bytes
    for info in wanted:
        _check_ratio(name, info, limits)
        data = _read_member(name, archive, info, min(limits.max_member_bytes, budget))
        budget -= len(data)
        members.append((info.filename, data))
    return members


def check_member_name(archive: str, member: str) -> None:
    parts = PurePosixPath(member).parts
    if member.startswith(("/", "\\")) or "\\" in member or ".." in parts or (parts and ":" in parts[0]):
        raise AccessError(f"{archive!r} has a member with a path that leaves the archive ({member!r}); refused")


def _check_ratio(archive: str, info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    if info.file_size > limits.max_member_bytes:
        raise AccessError(
            _too_large(
                f"{archive}!{info.filename}", info.file_size, limits.max_member_bytes, "OSCAL_MAX_DOCUMENT_BYTES"
            )
        )
    if info.file_size and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        raise AccessError(
            f"{archive!r} member {info.filename!r} expands {info.file_size // max(info.compress_size, 1)}:1, "
            f"more than the {limits.max_ratio}:1 allowed (a zip bomb?); refused"
        )


def _read_member(archive: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    with zf.open(info) as member:
        for chunk in iter(lambda: member.read(_READ_CHUNK), b""):
            total += len(chunk)
            if total > limit:
                raise AccessError(f"{archive!r} member {info.filename!r} expands beyond {limit} bytes; refused")
            chunks.append(chunk)
    return b"".join(chunks)


# -- remote URIs -----------------------------------------------------------------------------------

MAX_URL_CHARS = 4096
_SCHEMES = {"http": 80, "https": 443}
_HOST_NAME = re.compile(r"[A-Za-z0-9_.-]{1,253}")  # after IDNA encoding; no %-escapes, no spaces
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

    def url_for(self, address: IPAddress) -> str:
        literal = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{literal}:{self.port}{self.target}"


def is_remote(raw: str) -> bool:
    return raw.strip().lower().startswith(("http://", "https://"))


def shown_url(url: str) -> str:
    return repr(clip(url.strip(), MAX_SHOWN_PATH_CHARS))


def parse_remote_url(httpx: Any, url: str) -> RemoteTarget:
    """The parts of an http(s) URL, or AccessError saying what is wrong with it."""
    text = url.strip()
    if len(text) > MAX_URL_CHARS:
        raise AccessError(f"the URL is {len(text)} characters long; at most {MAX_URL_CHARS} are accepted")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in text):
        raise AccessError(f"{shown_url(text)} contains spaces or control characters; percent-encode them")
    try:
        parsed = httpx.URL(text)
        host = parsed.raw_host.decode("ascii")
        port = parsed.port
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise AccessError(f"{shown_url(text)} is not a valid URL: {clip(str(exc), 200)}") from None
    scheme = parsed.scheme.lower()
    if scheme not in _SCHEMES or not host:
        raise AccessError(f"{shown_url(text)} is not an http:// or https:// URL")
    if parsed.userinfo:
        raise AccessError("URLs with credentials (user:password@) are not accepted")
    if port is not None and not 0 < port < 65536:
        raise AccessError(f"{shown_url(text)} has port {port}; ports are 1 to 65535")
    if _ip_literal(host) is None and not _HOST_NAME.fullmatch(host):
        raise AccessError(f"{shown_url(text)} has an invalid host name")
    target = parsed.raw_path.decode("ascii") or "/"
    return RemoteTarget(text, scheme, host, port or _SCHEMES[scheme], target)


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def fetch_remote(url: str, *, timeout_seconds: float, max_bytes: int) -> bytes:
    """GET `url` within `timeout_seconds` in total and `max_bytes`; redirects are not followed.

    Only hosts whose every address is public are fetched, so a caller cannot use the server to read
    loopback, private-network or cloud-metadata endpoints. The name is resolved once and the request
    goes to the address that was checked (with the name in ``Host`` and, for https, in SNI and
    certificate verification), so a second, different DNS answer cannot redirect it (DNS rebinding).
    Compressed responses are refused: the size limit applies to the bytes received.
    """
    try:
        import httpx
    except ImportError:
        raise AccessError("fetching remote URIs needs httpx: pip install 'oscal-mcp[auth]'") from None
    target = parse_remote_url(httpx, url)
    try:
        with anyio.fail_after(timeout_seconds):
            address = await resolve_public_host(target.host, target.port)
            return await _get(httpx, target, address, timeout_seconds, max_bytes)
    except TimeoutError:
        raise AccessError(
            f"{shown_url(url)} did not answer within {timeout_seconds} s (OSCAL_REMOTE_TIMEOUT_SECONDS)"
        ) from None
    except httpx.HTTPError as exc:
        raise AccessError(
            f"{shown_url(url)} could not be fetched: {type(exc).__name__}: {clip(str(exc), 200)}"
        ) from None


async def resolve_public_host(host: str, port: int) -> IPAddress:
    """The address to connect to: the first of `host`'s addresses, provided every one is public."""
    literal = _ip_literal(host)
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


async def _get(httpx: Any, target: RemoteTarget, address: IPAddress, timeout_seconds: float, max_bytes: int) -> bytes:
    shown = shown_url(target.url)
    headers = {
        "Host": target.host_header,
        "Accept": "application/json, application/yaml;q=0.9, */*;q=0.1",
        "Accept-Encoding": "identity",
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    async with (
        httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False, trust_env=False) as client,
        client.stream("GET", target.url_for(address), headers=headers, extensions=extensions) as response,
    ):
        if response.is_redirect:
            location = clip(response.headers.get("location", "?"), MAX_SHOWN_PATH_CHARS)
            raise AccessError(f"{shown} redirects ({response.status_code}) to {location!r}; pass that URL instead")
        if response.status_code != 200:
            raise AccessError(f"{shown} answered HTTP {response.status_code}")
        _check_encoding(shown, response.headers.get("content-encoding"))
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise AccessError(_too_large(target.url, int(declared), max_bytes, "OSCAL_MAX_DOCUMENT_BYTES"))
        return await _bounded_body(response.aiter_raw(), shown, max_bytes)


def _check_encoding(shown: str, encoding: str | None) -> None:
    codings = [part.strip().lower() for part in (encoding or "").split(",") if part.strip()]
    if any(coding != "identity" for coding in codings):
        raise AccessError(
            f"{shown} answered with Content-Encoding {clip(encoding or '', 60)!r} although only identity "
            "was accepted; compressed responses are refused"
        )


async def _bounded_body(chunks: Any, shown: str, max_bytes: int) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise AccessError(f"{shown} sent more than {max_bytes} bytes (OSCAL_MAX_DOCUMENT_BYTES)")
    return bytes(body)
