"""Maintainer script: check or regenerate ``oscal_mcp/content/MANIFEST.sha256``.

    python -m oscal_mcp.content.manifest           # check; exit 1 and list problems on a mismatch
    python -m oscal_mcp.content.manifest --write   # rewrite the manifest from the files on disk

Run ``--write`` only after reviewing the content change itself: the manifest records what was
reviewed, it does not review anything. Comment lines (the ``# source`` lines) are kept as they are.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from oscal_mcp.content import MANIFEST_NAME, BundledContentError, check_files, data_files, parse_manifest, sha256_hex

CONTENT_DIR = Path(__file__).resolve().parent


def render_manifest(content_dir: Path = CONTENT_DIR) -> str:
    """The manifest of the files on disk, after the ``#`` lines of the current one (origin and
    version notes of bundled third-party content, which only a maintainer writes)."""
    lines = [*_comment_lines(content_dir / MANIFEST_NAME)]
    lines += [f"{sha256_hex(entry.read_bytes())}  {path}" for path, entry in data_files(content_dir).items()]
    return "\n".join(lines) + "\n"


def _comment_lines(manifest_file: Path) -> list[str]:
    if not manifest_file.is_file():
        return []
    return [line for line in manifest_file.read_text(encoding="utf-8").splitlines() if line.startswith("#")]


def problems(content_dir: Path = CONTENT_DIR) -> list[str]:
    manifest_file = content_dir / MANIFEST_NAME
    if not manifest_file.is_file():
        return [f"{MANIFEST_NAME}: missing"]
    try:
        expected = parse_manifest(manifest_file.read_text(encoding="utf-8"))
    except BundledContentError as exc:
        return [str(exc)]
    return check_files(content_dir, expected)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oscal_mcp.content.manifest", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"rewrite {MANIFEST_NAME} from the files on disk")
    args = parser.parse_args(argv)
    if args.write:
        (CONTENT_DIR / MANIFEST_NAME).write_text(render_manifest(), encoding="utf-8")
        print(f"wrote {CONTENT_DIR / MANIFEST_NAME}")
        return 0
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    if not found:
        print(f"{MANIFEST_NAME} matches {len(data_files(CONTENT_DIR))} files")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
