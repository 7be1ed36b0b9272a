"""Reading OSCAL documents safely: parse JSON/YAML with line and column errors, read local files only
inside the configured roots, read .zip archives without trusting them, fetch remote URIs with a
timeout and a size limit.

Every failure is a `DocumentError` (the content is bad: a validation result) or an `AccessError`
(the request cannot be served: a tool error); both carry a message a caller can act on. Nothing
here raises anything else on bad input. All functions are synchronous except `fetch_remote`; the
tools call them through ``anyio.to_thread``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal
from urllib.parse import urlsplit

import anyio

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


def resolve_in_roots(raw: str, roots: tuple[Path, ...]) -> Path:
    """The real path of `raw` (relative paths are relative to the first root) if it lies in a root.

    Symlinks and ``..`` are resolved first, so a link or a ``..`` that leaves every root is refused.
    """
    text = raw.strip()
    if not text or "\x00" in text:
        raise AccessError("the path is empty or contains a NUL character")
    candidate = Path(text)
    if not candidate.is_absolute():
        candidate = roots[0] / candidate
    real = Path(os.path.realpath(candidate))
    if not any(real == root or real.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots)
        raise AccessError(
            f"{text!r} is outside the allowed file roots ({allowed}); symlinks and '..' are resolved "
            "before this check. Ask the operator to add the directory to OSCAL_FILE_ROOTS"
        )
    return real


def read_local_file(path: Path, max_bytes: int, *, shown: str | None = None) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; AccessError otherwise."""
    name = shown or str(path)
    with _open_regular(path, name) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise AccessError(_too_large(name, size, max_bytes, "OSCAL_MAX_DOCUMENT_BYTES"))
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise AccessError(_too_large(name, len(data), max_bytes, "OSCAL_MAX_DOCUMENT_BYTES"))
    return data


def _open_regular(path: Path, name: str) -> IO[bytes]:
    # O_NOFOLLOW: the resolved path's last component must not have become a symlink since; O_NONBLOCK:
    # opening a FIFO must not hang (it is refused below, like every non-regular file).
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise AccessError(f"{name!r} does not exist") from None
    except PermissionError:
        raise AccessError(f"{name!r} is not readable by the server") from None
    except OSError as exc:
        raise AccessError(f"{name!r} cannot be opened: {exc.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise AccessError(f"{name!r} is {kind}; give the path of a JSON or YAML file")
    return os.fdopen(fd, "rb")


def _too_large(name: str, size: int, limit: int, setting: str) -> str:
    return f"{name!r} is too large: {size} bytes, the limit is {limit} bytes ({setting})"


# -- zip archives ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveLimits:
    max_member_bytes: int
    max_total_bytes: int
    max_members: int = MAX_ARCHIVE_MEMBERS
    max_ratio: int = MAX_COMPRESSION_RATIO


def read_zip_members(
    path: Path, limits: ArchiveLimits, suffixes: tuple[str, ...] = (".json",)
) -> list[tuple[str, bytes]]:
    """The (name, bytes) of the archive's members with one of `suffixes`, read within `limits`.

    Refused as a whole (AccessError): more than `max_members` entries, a member whose name is absolute
    or contains ``..`` or a backslash, a member or total larger than the limits, a compression ratio
    above `max_ratio` (a zip bomb), encrypted or corrupt members. Nothing is extracted to disk.
    """
    name = path.name
    with _open_regular(path, name) as handle:
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


def is_remote(raw: str) -> bool:
    return urlsplit(raw.strip()).scheme.lower() in ("http", "https")


async def fetch_remote(url: str, *, timeout_seconds: float, max_bytes: int) -> bytes:
    """GET `url` within `timeout_seconds` in total and `max_bytes`; redirects are not followed.

    Only hosts that resolve to public (global) addresses are fetched, so a caller cannot use the
    server to read loopback, private-network or cloud-metadata endpoints.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise AccessError(f"{url!r} is not an http:// or https:// URL")
    if parts.username or parts.password:
        raise AccessError("URLs with credentials (user:password@) are not accepted")
    try:
        import httpx
    except ImportError:
        raise AccessError("fetching remote URIs needs httpx: pip install 'oscal-mcp[auth]'") from None
    try:
        with anyio.fail_after(timeout_seconds):
            await check_public_host(parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80))
            return await _get(httpx, url.strip(), timeout_seconds, max_bytes)
    except TimeoutError:
        raise AccessError(f"{url!r} did not answer within {timeout_seconds} s (OSCAL_REMOTE_TIMEOUT_SECONDS)") from None
    except httpx.HTTPError as exc:
        raise AccessError(f"{url!r} could not be fetched: {type(exc).__name__}: {exc}") from None


async def check_public_host(host: str, port: int) -> None:
    try:
        infos = await anyio.getaddrinfo(host, port)
    except OSError as exc:
        raise AccessError(f"host {host!r} cannot be resolved: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global:
            raise AccessError(
                f"host {host!r} resolves to a non-public address ({address}); only public hosts are fetched"
            )


async def _get(httpx: Any, url: str, timeout_seconds: float, max_bytes: int) -> bytes:
    headers = {"Accept": "application/json, application/yaml;q=0.9, */*;q=0.1"}
    async with (
        httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False, trust_env=False) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        if response.is_redirect:
            location = response.headers.get("location", "?")
            raise AccessError(f"{url!r} redirects ({response.status_code}) to {location!r}; pass that URL instead")
        if response.status_code != 200:
            raise AccessError(f"{url!r} answered HTTP {response.status_code}")
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise AccessError(_too_large(url, int(declared), max_bytes, "OSCAL_MAX_DOCUMENT_BYTES"))
        return await _bounded_body(response.aiter_bytes(), url, max_bytes)


async def _bounded_body(chunks: Any, url: str, max_bytes: int) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise AccessError(f"{url!r} sent more than {max_bytes} bytes (OSCAL_MAX_DOCUMENT_BYTES)")
    return bytes(body)
