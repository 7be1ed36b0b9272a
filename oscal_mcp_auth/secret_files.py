"""Secrets given inline or in files, read to the same bytes, and the files' permissions checked.

**One spelling.** A secret given inline (``OSCAL_AUTH_CACHE_SECRET``) and the same secret in a
file (``OSCAL_AUTH_CACHE_SECRET_FILE``, a Kubernetes or Docker secret with its trailing newline)
must be the same bytes, or replicas configured the two ways derive different cache namespaces and
nonce keys and silently stop sharing (a DPoP proof used at one would be accepted at the other).
Both go through `secret_bytes`: surrounding whitespace removed (as the settings reader does for
every inline value, `str.strip`), the rest kept byte for byte (bytes that are no UTF-8 included).

**Permissions** (POSIX). A file that group or others may write is refused: whoever can write it
chooses the secret (or the trusted key). One that every user may read is accepted with a
warning. Each message names the file and the ``chmod`` that fixes it.
"""

from __future__ import annotations

import logging
import os
import shlex
import stat
from pathlib import Path

from oscal_mcp_auth.errors import ConfigurationError

logger = logging.getLogger("oscal_mcp_auth")


def secret_bytes(text: str, setting: str) -> bytes:
    """The bytes of a secret given as text: surrounding whitespace removed, bytes that were no
    UTF-8 (read with ``surrogateescape``, as ``os.environ`` does) restored as they were."""
    try:
        return _stripped_bytes(text)
    except UnicodeEncodeError:
        raise ConfigurationError(f"{setting} holds characters that are not text; use a printable secret") from None


def _stripped_bytes(text: str) -> bytes:
    return text.strip().encode(errors="surrogateescape")  # UTF-8


def read_secret_file(setting: str, path: Path) -> bytes:
    """The secret in the file at `path`, to the same bytes as if given inline (`secret_bytes`),
    after `check_permissions` (``confidential``)."""
    path = path.expanduser()
    check_permissions(setting, path, confidential=True)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"{setting}={str(path)!r} cannot be read: {exc.strerror or type(exc).__name__}"
        ) from None
    # Never fails (unlike an inline value): surrogateescape encodes back exactly what it decoded.
    return _stripped_bytes(raw.decode(errors="surrogateescape"))


def check_permissions(setting: str, path: Path, *, confidential: bool) -> None:
    """Refuse a file group or others may write (`ConfigurationError`); warn when a `confidential`
    one is readable by every user. A file that cannot be examined is left to the reader's error."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    quoted = shlex.quote(str(path))
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        fix = f"chmod 600 {quoted}" if confidential else f"chmod go-w {quoted}"
        raise ConfigurationError(
            f"{setting}={str(path)!r} is writable by {_who(mode, stat.S_IWGRP, stat.S_IWOTH)} (mode {mode:04o}), "
            f"so they choose what it holds; run: {fix}"
        )
    if confidential and mode & stat.S_IROTH:
        logger.warning(
            "%s=%r is readable by every user (mode %04o); run: chmod 600 %s", setting, str(path), mode, quoted
        )


def _who(mode: int, group_bit: int, other_bit: int) -> str:
    return " and ".join(name for name, bit in (("its group", group_bit), ("every user", other_bit)) if mode & bit)
