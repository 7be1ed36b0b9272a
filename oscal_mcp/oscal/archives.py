"""Reading .zip archives of OSCAL documents without trusting them: nothing is extracted to disk,
member names, counts, sizes and compression ratios are checked before and while reading.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from oscal_mcp.oscal.errors import AccessError
from oscal_mcp.oscal.files import FilePolicy, open_regular, too_large

MAX_ARCHIVE_MEMBERS = 1000
MAX_COMPRESSION_RATIO = 100
_READ_CHUNK = 1 << 20


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
    with open_regular(path, name, policy) as handle:
        if os.fstat(handle.fileno()).st_size > limits.max_total_bytes:
            raise AccessError(
                too_large(name, os.fstat(handle.fileno()).st_size, limits.max_total_bytes, "OSCAL_MAX_ARCHIVE_BYTES")
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
            too_large(name, declared, limits.max_total_bytes, "OSCAL_MAX_ARCHIVE_BYTES") + " uncompressed"
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
            too_large(f"{archive}!{info.filename}", info.file_size, limits.max_member_bytes, "OSCAL_MAX_DOCUMENT_BYTES")
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
