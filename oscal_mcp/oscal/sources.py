"""Where documents come from, under one policy: the entry points the tools and the indexes call.

* `read_source` - one document named by a caller: a local path inside ``OSCAL_FILE_ROOTS`` (JSON or
  YAML, never a hidden file) or, when the operator allows it, a public http(s) URL.
* `directory_documents` - the one walk of an operator's directory (``OSCAL_DOCUMENTS_DIR``,
  ``OSCAL_COMPONENT_DEFINITIONS_DIR``): every JSON/YAML file and every JSON/YAML member of every
  ``*.zip`` archive, each read with the size and archive limits; hidden names are never read; a file
  that cannot be read is reported, never fatal.

All limits come from a `SourceSettings` (the tools' settings satisfy it: ``OSCAL_FILE_ROOTS``,
``OSCAL_MAX_DOCUMENT_BYTES``, ``OSCAL_MAX_ARCHIVE_BYTES``, ``OSCAL_REMOTE_TIMEOUT_SECONDS``...).
Failures are `AccessError` (cannot be read) or `DocumentError` (not well-formed), with messages a
caller can act on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from anyio import to_thread

from oscal_mcp.oscal.archives import ArchiveLimits, read_zip_members
from oscal_mcp.oscal.errors import AccessError
from oscal_mcp.oscal.files import DOCUMENT_SUFFIXES, FilePolicy, read_local_file, resolve_local
from oscal_mcp.oscal.remote import fetch_remote, is_remote

MAX_DIRECTORY_FILES = 1000
ARCHIVE_SUFFIX = ".zip"


class SourceSettings(Protocol):
    """What reading documents needs to know; `oscal_mcp.tools.settings.ToolSettings` provides it."""

    @property
    def file_roots(self) -> tuple[Path, ...]: ...

    @property
    def allow_remote_uris(self) -> bool: ...

    @property
    def max_document_bytes(self) -> int: ...

    @property
    def max_archive_bytes(self) -> int: ...

    @property
    def remote_timeout_seconds(self) -> int: ...


def document_policy(settings: SourceSettings) -> FilePolicy:
    """Callers' paths: JSON and YAML files in the roots, never hidden ones (.env, .git/...)."""
    return FilePolicy(settings.file_roots, DOCUMENT_SUFFIXES, hidden=False)


async def read_source(raw: str, settings: SourceSettings) -> tuple[bytes, str]:
    """The bytes behind a caller's local path or (when allowed) http(s) URI, and how to name it.

    A ``file://`` prefix is accepted. Local reads run in a worker thread. AccessError otherwise.
    """
    text = raw.strip()
    if text.lower().startswith("file://"):
        text = text[len("file://") :]
    if is_remote(text):
        if not settings.allow_remote_uris:
            raise AccessError("remote URIs are disabled on this server (OSCAL_ALLOW_REMOTE_URIS=false)")
        data = await fetch_remote(
            text, timeout_seconds=settings.remote_timeout_seconds, max_bytes=settings.max_document_bytes
        )
        return data, text
    return await to_thread.run_sync(read_local, text, settings)


def read_local(text: str, settings: SourceSettings) -> tuple[bytes, str]:
    """Resolve, check and read a local document (blocking: realpath and reads belong in a worker thread)."""
    policy = document_policy(settings)
    path = resolve_local(text, policy)
    return read_local_file(path, settings.max_document_bytes, shown=text, policy=policy), str(path)


class SizeLimits(Protocol):
    """The size rules of a directory read (``OSCAL_MAX_DOCUMENT_BYTES``, ``OSCAL_MAX_ARCHIVE_BYTES``)."""

    @property
    def max_document_bytes(self) -> int: ...

    @property
    def max_archive_bytes(self) -> int: ...


@dataclass(frozen=True)
class DirectoryFile:
    """One document found under a directory: `source` is ``relative/path`` or ``archive.zip!member``;
    `path` is its ``/``-separated path inside the directory (a member's path is the archive's folder
    plus the member name), used to resolve relative references between documents."""

    source: str
    path: str
    data: bytes


@dataclass(frozen=True)
class Skipped:
    """A file under the directory that was not read, and why."""

    source: str
    reason: str


def directory_documents(
    directory: Path, limits: SizeLimits, skip: tuple[Path, ...] = ()
) -> Iterator[DirectoryFile | Skipped]:
    """Every JSON/YAML document under `directory`, files and members of ``.zip`` archives, in name
    order; blocking.

    Hidden names (``.git/``, ``.env``) are never read; links that leave the directory, oversized files
    and unsafe archives are `Skipped` (the policy is checked again on the file actually opened); at
    most `MAX_DIRECTORY_FILES` files are read. Folders in `skip` (read as another directory) are
    left out.
    """
    files = list(_candidate_files(directory, skip))
    if len(files) > MAX_DIRECTORY_FILES:
        yield Skipped(str(directory), f"{len(files)} files found; only the first {MAX_DIRECTORY_FILES} are read")
    policy = FilePolicy((directory,), suffixes=(*DOCUMENT_SUFFIXES, ARCHIVE_SUFFIX), hidden=False)
    archive_limits = ArchiveLimits(max_member_bytes=limits.max_document_bytes, max_total_bytes=limits.max_archive_bytes)
    for path in files[:MAX_DIRECTORY_FILES]:
        shown = path.relative_to(directory).as_posix()
        try:
            yield from _read_file(path, shown, policy, limits.max_document_bytes, archive_limits)
        except AccessError as exc:
            yield Skipped(shown, str(exc))
        except Exception as exc:  # one odd file must not hide the others
            yield Skipped(shown, f"unexpected {type(exc).__name__} while reading it")


def _candidate_files(directory: Path, skip: tuple[Path, ...]) -> Iterator[Path]:
    for folder, subfolders, names in os.walk(directory, followlinks=False):
        subfolders[:] = sorted(
            name for name in subfolders if not name.startswith(".") and Path(folder) / name not in skip
        )
        for name in sorted(names):
            if not name.startswith(".") and name.lower().endswith((*DOCUMENT_SUFFIXES, ARCHIVE_SUFFIX)):
                yield Path(folder) / name


def _read_file(
    path: Path, shown: str, policy: FilePolicy, max_bytes: int, archive_limits: ArchiveLimits
) -> Iterator[DirectoryFile]:
    real = Path(os.path.realpath(path))
    problem = policy.problem(real)
    if problem is not None:
        raise AccessError(f"it {problem}")
    if real.name.lower().endswith(ARCHIVE_SUFFIX):
        folder = shown.rsplit("/", 1)[0] + "/" if "/" in shown else ""
        for member, data in read_zip_members(real, archive_limits, DOCUMENT_SUFFIXES, policy=policy):
            yield DirectoryFile(f"{shown}!{member}", f"{folder}{member}", data)
    else:
        yield DirectoryFile(shown, shown, read_local_file(real, max_bytes, shown=shown, policy=policy))
