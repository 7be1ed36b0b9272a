"""Reading local files safely: only inside the configured roots, only the files a `FilePolicy`
allows, and the policy checked again on the file actually opened (a directory on the path swapped
for a symlink between the check and the open is caught). Blocking: call from a worker thread.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from oscal_mcp.oscal.errors import AccessError
from oscal_mcp.oscal.text import clip

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
    try:
        real = Path(os.path.realpath(candidate))
        is_dir = real.is_dir()
    except OSError as exc:  # a name longer than the file system allows (ENAMETOOLONG), a loop...
        raise AccessError(f"{shown_path(text)} cannot be resolved: {exc.strerror or type(exc).__name__}") from None
    problem = policy.problem(real, is_dir=is_dir)
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
    with open_regular(path, name, policy) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise AccessError(too_large(name, size, max_bytes, "OSCAL_MAX_DOCUMENT_BYTES"))
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise AccessError(too_large(name, len(data), max_bytes, "OSCAL_MAX_DOCUMENT_BYTES"))
    return data


def open_regular(path: Path, name: str, policy: FilePolicy | None = None) -> IO[bytes]:
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


def too_large(name: str, size: int, limit: int, setting: str) -> str:
    return f"{shown_path(name)} is too large: {size} bytes, the limit is {limit} bytes ({setting})"
