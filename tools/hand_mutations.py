"""Check that each hand-made mutation of ``tools/hand_mutations.toml`` is killed by its unit tests.

    python tools/hand_mutations.py

Each mutation replaces one snippet of a source file, runs the listed tests (``pytest -x``) and puts the
file back, whatever happens. The exit status is 1 when a mutation survives or no longer applies (its
snippet is gone: update the entry).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

MUTATIONS_FILE = Path(__file__).with_name("hand_mutations.toml")


def killed(mutation: dict[str, Any]) -> bool | None:
    """True when a test fails with the mutation applied; None when its snippet is not in the file."""
    path = Path(str(mutation["file"]))
    original = path.read_text()
    old, new = str(mutation["old"]), str(mutation["new"])
    if old not in original:
        return None
    path.write_text(original.replace(old, new, 1))
    try:
        tests = [str(test) for test in mutation["tests"]]
        run = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider", *tests]
        return subprocess.run(run, capture_output=True, check=False).returncode != 0  # noqa: S603 - our own tests
    finally:
        path.write_text(original)


def main() -> int:
    mutations = tomllib.loads(MUTATIONS_FILE.read_text())["mutation"]
    failures = 0
    for mutation in mutations:
        verdict = killed(mutation)
        label = {True: "killed", False: "SURVIVED", None: "NOT APPLIED"}[verdict]
        print(f"{label:11} {mutation['what']}", flush=True)
        failures += verdict is not True
    print(f"{len(mutations) - failures} of {len(mutations)} killed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
