"""Mutation score per module from mutmut's results (``mutants/**/*.py.meta``), run by ``make mutation``.

    python tools/mutation_score.py [--survivors] [--markdown] [MODULE_PREFIX ...]

A mutant counts as detected when a test failed, timed out or the type checker caught it. The score
is detected / (detected + survived + no tests): a mutant no unit test reaches is a survivor too.
Mutants known to be equivalent (no test can tell them from the original) are listed with why in
tools/equivalent_mutants.toml and left out of the score; a name there that no longer survives
is reported, so stale entries do not pile up.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

MUTANTS_DIR = Path("mutants")
EQUIVALENTS_FILE = Path(__file__).with_name("equivalent_mutants.toml")

# mutmut 3's exit codes (mutmut/stats.py); anything else is "suspicious".
DETECTED = {1: "killed", 3: "killed", 37: "type check", 36: "timeout", 24: "timeout", -24: "timeout",
            152: "timeout", 255: "timeout"}  # fmt: skip
SURVIVED = {0: "survived", 5: "no tests", 33: "no tests"}
NOT_RUN = {None: "not checked", 34: "skipped", 2: "interrupted"}


def status_of(exit_code: int | None) -> str:
    for table in (DETECTED, SURVIVED, NOT_RUN):
        if exit_code in table:
            return table[exit_code]
    return "suspicious"


def load_results(root: Path = MUTANTS_DIR) -> dict[str, dict[str, int | None]]:
    """Exit code of each mutant, by module name (``oscal_mcp_auth.scopes``)."""
    results: dict[str, dict[str, int | None]] = {}
    for meta in sorted(root.rglob("*.py.meta")):
        module = ".".join(meta.relative_to(root).with_suffix("").with_suffix("").parts)
        results[module] = json.loads(meta.read_text())["exit_code_by_key"]
    return results


def load_equivalents(path: Path = EQUIVALENTS_FILE) -> dict[str, str]:
    if not path.exists():
        return {}
    return {name: str(why) for name, why in tomllib.loads(path.read_text()).get("equivalent", {}).items()}


def score_line(module: str, statuses: Counter[str], equivalent: int) -> str:
    detected = sum(statuses[s] for s in set(DETECTED.values()))
    undetected = sum(statuses[s] for s in set(SURVIVED.values()))
    counted = detected + undetected
    score = f"{100 * detected / counted:5.1f}%" if counted else "    -"
    others = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()) if s not in ("killed", "survived"))
    suffix = f"  [{others}]" if others else ""
    return f"{module:40} {score}  detected {detected:4}  survived {undetected:3}  equivalent {equivalent:3}{suffix}"


def report(results: dict[str, dict[str, int | None]], equivalents: dict[str, str], show: bool) -> list[str]:
    lines, survivors, total, total_equivalent = [], [], Counter[str](), 0
    for module, codes in sorted(results.items()):
        statuses: Counter[str] = Counter()
        equivalent = 0
        for name, code in codes.items():
            status = status_of(code)
            if status in SURVIVED.values() and name in equivalents:
                equivalent += 1
                continue
            statuses[status] += 1
            if status in SURVIVED.values() or status == "suspicious":
                survivors.append(f"  {name}: {status}")
        lines.append(score_line(module, statuses, equivalent))
        total.update(statuses)
        total_equivalent += equivalent
    lines.append(score_line("all", total, total_equivalent))
    if show and survivors:
        lines += ["", "Survivors (mutmut show NAME shows the change):", *survivors]
    return lines


def markdown_table(results: dict[str, dict[str, int | None]], equivalents: dict[str, str]) -> list[str]:
    """The score per module as a Markdown table (for the README's mutation-testing section)."""
    lines = [
        "| module | mutants | killed | equivalent | surviving | not run | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for module, codes in sorted(results.items()):
        statuses = Counter(status_of(code) for code in codes.values())
        equivalent = sum(1 for n, c in codes.items() if n in equivalents and status_of(c) in SURVIVED.values())
        detected = sum(statuses[s] for s in set(DETECTED.values()))
        surviving = sum(statuses[s] for s in set(SURVIVED.values())) - equivalent
        not_run = len(codes) - detected - surviving - equivalent
        score = f"{100 * detected / (detected + surviving):.1f}%" if detected + surviving else "-"
        lines.append(f"| `{module}` | {len(codes)} | {detected} | {equivalent} | {surviving} | {not_run} | {score} |")
    return lines


def stale(results: dict[str, dict[str, int | None]], equivalents: dict[str, str]) -> Iterable[str]:
    codes = {name: code for module in results.values() for name, code in module.items()}
    for name in equivalents:
        if name.rsplit(".", 1)[0] not in results:
            continue  # a module not in this report
        if name not in codes:
            yield name  # renumbered or gone after an edit
        elif status_of(codes[name]) not in (*SURVIVED.values(), *NOT_RUN.values()):
            yield name  # a test kills it now (a mutant not yet run says nothing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="only modules starting with these prefixes")
    parser.add_argument("--survivors", action="store_true", help="list every surviving mutant")
    parser.add_argument("--markdown", action="store_true", help="print the score per module as a Markdown table")
    args = parser.parse_args(argv)
    results = load_results()
    if args.modules:
        results = {m: r for m, r in results.items() if m.startswith(tuple(args.modules))}
    if not results:
        print("no mutmut results under mutants/: run `make mutation` first", file=sys.stderr)
        return 1
    equivalents = load_equivalents()
    lines = markdown_table(results, equivalents) if args.markdown else report(results, equivalents, args.survivors)
    print("\n".join(lines))
    for name in stale(results, equivalents):
        print(f"note: {name} is listed as equivalent but did not survive this run", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
