"""Bundled content (NIST's OSCAL schemas, the resource list, sample component definitions) and its
SHA-256 manifest.

The content is security content: an edited sample could teach an assistant a wrong control
implementation. Every data file in this package is listed in ``MANIFEST.sha256`` (the format of
``sha256sum``: ``<hex>  <path>``). `verify_bundled_content` checks the whole set at start-up
(a changed, missing or unlisted file is an error naming the file), and `read_bundled` checks each
file again when a tool reads it, so a file changed after start-up is not served either.

Where a file comes from is recorded in the same manifest, on comment lines that ``sha256sum``
ignores, one per folder (or file) prefix; the longest matching prefix describes a file::

    # source schemas/1.2.3/: name=NIST OSCAL schemas; version=1.2.3; origin=<URL>; license=...; via=...

Keys are free (``name``, ``version``, ``origin`` and ``license`` are expected; ``via`` says how the
file was obtained); values cannot contain ``;``. `content_source` answers for one path.

Maintainers regenerate the hash lines with ``python -m oscal_mcp.content.manifest --write`` (comment
lines, hence the sources, are kept).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

MANIFEST_NAME = "MANIFEST.sha256"
SOURCE_PREFIX = "# source "
_NOT_CONTENT_SUFFIXES = (".py", ".pyc")
_NOT_CONTENT_DIRS = ("__pycache__",)


class BundledContentError(Exception):
    """A bundled file is missing, unlisted or does not match its manifest digest."""


def content_root() -> Traversable:
    return files(__name__)


def data_files(root: Traversable | None = None) -> dict[str, Traversable]:
    """Every data file under the content package by its ``/``-separated relative path."""
    found: dict[str, Traversable] = {}
    pending: list[tuple[str, Traversable]] = [("", root or content_root())]
    while pending:
        prefix, folder = pending.pop()
        for entry in folder.iterdir():
            rel = f"{prefix}{entry.name}"
            if entry.is_dir():
                if entry.name not in _NOT_CONTENT_DIRS:
                    pending.append((f"{rel}/", entry))
            elif rel != MANIFEST_NAME and not entry.name.endswith(_NOT_CONTENT_SUFFIXES):
                found[rel] = entry
    return dict(sorted(found.items()))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_manifest(text: str) -> dict[str, str]:
    """``<64 hex>  <path>`` lines (blank lines and ``#`` comments ignored) -> {path: digest}."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64 or not path or path in entries:
            raise BundledContentError(f"{MANIFEST_NAME} line {number} is malformed or repeats a path")
        entries[path] = digest.lower()
    return entries


@dataclass(frozen=True)
class ContentSource:
    """Where the bundled files under `prefix` come from (see the module docstring)."""

    prefix: str
    fields: dict[str, str]

    @property
    def version(self) -> str | None:
        return self.fields.get("version")

    @property
    def origin(self) -> str | None:
        return self.fields.get("origin")


def parse_sources(text: str) -> list[ContentSource]:
    """The ``# source <prefix>: key=value; ...`` lines of a manifest."""
    sources: list[ContentSource] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith(SOURCE_PREFIX):
            continue
        prefix, sep, rest = line[len(SOURCE_PREFIX) :].partition(": ")
        pairs = [item.partition("=") for item in rest.split(";") if item.strip()]
        if not sep or not prefix or any(not eq for _, eq, _ in pairs):
            raise BundledContentError(f"{MANIFEST_NAME} line {number}: a source line is malformed")
        sources.append(ContentSource(prefix, {key.strip(): value.strip() for key, _, value in pairs}))
    return sources


def _manifest_text() -> str:
    try:
        return content_root().joinpath(MANIFEST_NAME).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BundledContentError(f"bundled content manifest {MANIFEST_NAME} is missing") from None


@cache
def manifest_entries() -> dict[str, str]:
    return parse_manifest(_manifest_text())


@cache
def manifest_sources() -> tuple[ContentSource, ...]:
    return tuple(parse_sources(_manifest_text()))


def content_source(path: str) -> ContentSource | None:
    """The source recorded for a bundled path (longest matching prefix), or None."""
    matching = [source for source in manifest_sources() if path.startswith(source.prefix)]
    return max(matching, key=lambda source: len(source.prefix), default=None)


def check_files(root: Traversable, expected: dict[str, str]) -> list[str]:
    """Every problem with the data files under `root` against `expected`, one line each."""
    present = data_files(root)
    problems = [f"{path}: missing (listed in {MANIFEST_NAME})" for path in expected if path not in present]
    for path, entry in present.items():
        if path not in expected:
            problems.append(f"{path}: not listed in {MANIFEST_NAME}")
        elif sha256_hex(entry.read_bytes()) != expected[path]:
            problems.append(f"{path}: SHA-256 does not match {MANIFEST_NAME}")
    return problems


def verify_bundled_content() -> None:
    """Check every bundled data file against the manifest; raise ConfigError naming the first bad file."""
    from oscal_mcp.config import ConfigError

    try:
        problems = check_files(content_root(), manifest_entries())
        manifest_sources()  # a malformed source line is a broken manifest too
    except BundledContentError as exc:
        raise ConfigError(f"bundled content failed its integrity check: {exc}") from None
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(
            f"bundled content failed its integrity check: oscal_mcp/content/{problems[0]}{more}; "
            "reinstall oscal-mcp from a trusted source"
        )


def read_bundled(path: str) -> bytes:
    """The bytes of one bundled file, checked against the manifest on every read."""
    expected = manifest_entries().get(path)
    if expected is None:
        raise BundledContentError(f"{path} is not listed in {MANIFEST_NAME}")
    try:
        data = content_root().joinpath(*path.split("/")).read_bytes()
    except OSError as exc:
        raise BundledContentError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if sha256_hex(data) != expected:
        raise BundledContentError(f"{path}: SHA-256 does not match {MANIFEST_NAME}")
    return data


def bundled_paths(prefix: str) -> list[str]:
    """Manifest paths under a folder prefix such as ``component-definitions/``."""
    return [path for path in manifest_entries() if path.startswith(prefix)]
