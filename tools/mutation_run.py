"""Run mutmut (``make mutation``) on a selection of any size, with fresh data files in ``mutants/``.

    python tools/mutation_run.py [--file NAMES_FILE] [NAME_OR_PATTERN ...]
    python tools/mutation_run.py --pending MODULE_PREFIX [MODULE_PREFIX ...]

mutmut takes the mutants to run as command-line arguments, and the kernel refuses a command line
of a few thousand names ("Argument list too long"). Here the names (or fnmatch patterns such as
``oscal_mcp_auth.settings*``) may also come from a file, one a line, and mutmut is called in this
process, so no command line is built.

mutmut copies the source tree into ``mutants/`` once and then refreshes only Python files: a data
file changed since (the content manifest, a bundled schema) stays stale there and makes tests fail
in its copy only. Every non-Python file of mutmut's source paths is copied again when it differs.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

MUTANTS_DIR = Path("mutants")


def source_paths(pyproject: Path = Path("pyproject.toml")) -> list[Path]:
    config = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    return [Path(path) for path in config["source_paths"]]


def data_files(roots: list[Path]) -> Iterator[Path]:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts:
                yield path


def refresh_data_files(roots: list[Path], mutants: Path = MUTANTS_DIR) -> int:
    """Copy each data file whose copy under `mutants` is missing or differs; the number copied."""
    if not mutants.is_dir():
        return 0  # mutmut's first run copies everything itself
    copied = 0
    for source in data_files(roots):
        target = mutants / source
        if target.exists() and filecmp.cmp(source, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied += 1
    return copied


def selected_names(names: list[str], names_file: Path | None) -> list[str]:
    from_file = names_file.read_text().split() if names_file else []
    return [*names, *from_file]


def regenerate_mutants() -> None:
    """Make the mutants of every changed source file again, as ``mutmut run`` does first."""
    from mutmut import __main__ as mutmut_main

    MUTANTS_DIR.mkdir(exist_ok=True)
    mutmut_main.copy_src_dir()
    mutmut_main.copy_also_copy_files()
    mutmut_main.setup_source_paths()
    mutmut_main.create_mutants(os.cpu_count() or 2)


def pending_names(module_prefixes: list[str]) -> list[str]:
    """The mutants of the modules starting with these prefixes that have no result."""
    sys.path.insert(0, str(Path(__file__).parent))
    from mutation_score import load_results

    return [
        name
        for module, codes in load_results(MUTANTS_DIR).items()
        if module.startswith(tuple(module_prefixes))
        for name, code in codes.items()
        if code is None
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a file of mutant names or patterns, one a line")
    parser.add_argument("--pending", action="store_true", help="only the mutants without a result, of these modules")
    parser.add_argument("names", nargs="*", help="mutant names or fnmatch patterns (all when none)")
    args = parser.parse_args(argv)
    copied = refresh_data_files(source_paths())
    if copied:
        print(f"refreshed {copied} data file(s) in {MUTANTS_DIR}/")
    from mutmut.__main__ import cli  # the mutation extra; imported late so --help works without it

    names = selected_names(args.names, args.file)
    if args.pending:
        if not names:
            parser.error("--pending needs at least one module prefix")
        regenerate_mutants()
        names = pending_names(names)
        print(f"{len(names)} mutant(s) without a result")
        if not names:
            return 0
    return int(cli.main(["run", *names], standalone_mode=False) or 0)


if __name__ == "__main__":
    sys.exit(main())
