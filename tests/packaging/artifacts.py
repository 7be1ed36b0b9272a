"""The sdist and wheel of this checkout, built once per test session (``python -m build``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build_artifacts(outdir: Path) -> tuple[Path, Path]:
    """Build the sdist, then the wheel from it (what ``python -m build`` does), offline with the
    venv's hatchling; returns (sdist, wheel)."""
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (sdist,) = outdir.glob("oscal_mcp-*.tar.gz")
    (wheel,) = outdir.glob("oscal_mcp-*.whl")
    return sdist, wheel
