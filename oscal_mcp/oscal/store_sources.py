"""Where the store's documents come from: the bundled content and the operator's documents directory.

This is the only module of the store that reads bytes and parses them, through the project's
document-reading functions (file root, size and zip rules, JSON/YAML parsing with line and column).
A file that cannot be read or parsed becomes a problem line naming the file; it never stops the rest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from oscal_mcp.content import BundledContentError, bundled_paths, read_bundled
from oscal_mcp.oscal.archives import ArchiveLimits, read_zip_members
from oscal_mcp.oscal.documents import guess_format, parse_document
from oscal_mcp.oscal.errors import AccessError, DocumentError
from oscal_mcp.oscal.files import DOCUMENT_SUFFIXES, FilePolicy, read_local_file

Origin = Literal["bundled", "directory"]
BUNDLED_FOLDERS: tuple[str, ...] = ("nist/", "component-definitions/")
ARCHIVE_SUFFIX = ".zip"
MAX_DIRECTORY_FILES = 1000


@dataclass(frozen=True)
class SourceLimits:
    """The size rules of the documents directory (``OSCAL_MAX_DOCUMENT_BYTES``, ``OSCAL_MAX_ARCHIVE_BYTES``)."""

    max_document_bytes: int
    max_archive_bytes: int


@dataclass(frozen=True)
class ParsedSource:
    """One parsed document: `source` names it in results ('bundled:<path>', '<path>', '<zip>!<member>');
    `path` is its ``/``-separated path inside its origin, used to resolve relative profile imports."""

    source: str
    path: str
    origin: Origin
    data: Any


@dataclass
class Loaded:
    documents: list[ParsedSource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load_bundled(loaded: Loaded) -> None:
    for folder in BUNDLED_FOLDERS:
        for path in bundled_paths(folder):
            if not path.lower().endswith(DOCUMENT_SUFFIXES):
                continue
            try:
                data = read_bundled(path)
            except BundledContentError as exc:
                loaded.problems.append(f"bundled:{path}: integrity check failed: {exc}")
                continue
            _parse_into(loaded, data, ParsedSource(f"bundled:{path}", path, "bundled", None))


def load_directory(loaded: Loaded, directory: Path, limits: SourceLimits) -> None:
    """Every JSON/YAML file and .zip archive under `directory` (hidden names and links that leave it
    are refused by the file policy, checked again on the file actually opened)."""
    files = list(candidate_files(directory))
    if len(files) > MAX_DIRECTORY_FILES:
        loaded.problems.append(f"{directory}: {len(files)} files found; only the first {MAX_DIRECTORY_FILES} are read")
    policy = FilePolicy((directory,), suffixes=(*DOCUMENT_SUFFIXES, ARCHIVE_SUFFIX), hidden=False)
    archive_limits = ArchiveLimits(max_member_bytes=limits.max_document_bytes, max_total_bytes=limits.max_archive_bytes)
    for path in files[:MAX_DIRECTORY_FILES]:
        shown = path.relative_to(directory).as_posix()
        try:
            _load_file(loaded, directory, path, shown, policy, limits, archive_limits)
        except AccessError as exc:
            loaded.problems.append(f"{shown}: skipped: {exc}")
        except Exception as exc:  # one odd file must not hide the others
            loaded.problems.append(f"{shown}: skipped: unexpected {type(exc).__name__} while reading it")


def candidate_files(directory: Path) -> Iterator[Path]:
    for folder, subfolders, names in os.walk(directory, followlinks=False):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and name.lower().endswith((*DOCUMENT_SUFFIXES, ARCHIVE_SUFFIX)):
                yield Path(folder) / name


def _load_file(
    loaded: Loaded,
    directory: Path,
    path: Path,
    shown: str,
    policy: FilePolicy,
    limits: SourceLimits,
    archive_limits: ArchiveLimits,
) -> None:
    real = Path(os.path.realpath(path))
    problem = policy.problem(real)
    if problem is not None:
        raise AccessError(f"it {problem}")
    if real.name.lower().endswith(ARCHIVE_SUFFIX):
        for member, data in read_zip_members(real, archive_limits, DOCUMENT_SUFFIXES, policy=policy):
            folder = shown.rsplit("/", 1)[0] + "/" if "/" in shown else ""
            _parse_into(loaded, data, ParsedSource(f"{shown}!{member}", f"{folder}{member}", "directory", None))
    else:
        data = read_local_file(real, limits.max_document_bytes, shown=shown, policy=policy)
        _parse_into(loaded, data, ParsedSource(shown, shown, "directory", None))


def _parse_into(loaded: Loaded, data: bytes, where: ParsedSource) -> None:
    try:
        document = parse_document(data, guess_format(where.path, data))
    except DocumentError as exc:
        at = f" (line {exc.line}, column {exc.column})" if exc.line else ""
        loaded.problems.append(f"{where.source}: skipped: {exc.message}{at}")
        return
    loaded.documents.append(ParsedSource(where.source, where.path, where.origin, document))
