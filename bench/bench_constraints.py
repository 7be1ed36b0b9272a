"""The constraint level's cost (issue #23), as ratios measured side by side in one run.

    .venv/bin/python bench/bench_constraints.py [--blocks 7] [--repeat 3] [--reference]

Three documents: NIST's ssp-example.json (22 KB), a generated SSP of about 22 KB
(`tests/metaschema/corpus.py`) and the bundled NIST SP 800-53 rev 5 catalog (3.1 MB). After the
warm-up the process freezes what is alive (`gc.freeze`), as the server's warm-up does; the
collector stays on. For each, blocks alternate (A/B, then B/A, ...) between:

- ``schema``: NIST's JSON Schema level alone (jsonschema-rs), on the parsed document;
- ``constraints``: the constraint level alone (NIST's Metaschema constraints);
- ``before``: the whole validation as it was before the constraint level (parse, schema, model);
- ``whole``: the whole validation now (`validation.validate`, all four levels).

Printed per document: each median (CPU seconds, `time.process_time`, immune to being descheduled)
and the ratios constraints/schema and whole/before (median of the per-block ratios with their
range). Then the SSP through the whole tool path (`validate_oscal_content` in an in-memory MCP
client session), alternating with the same call while the constraint level is replaced by a
skipped level (the road as it was). Goals: a small document's whole validation within 1.5x of
before; the catalog's whole validation at least 3x faster than the reference server's (which the
issue puts at about 10x ours before, so whole/before at most about 3.3x). With ``--reference``,
the catalog's whole validation alternates with the reference server's (mcp-server-for-oscal
0.7.1, `validate_oscal_content` in its own venv, `bench/reference_validate.py`) and the ratio is
printed: goal at least 3x.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anyio
from mcp import Client

from oscal_mcp import oscal
from oscal_mcp.config import load_settings
from oscal_mcp.oscal.constraint_level import constraint_level
from oscal_mcp.oscal.documents import parse_document
from oscal_mcp.oscal.issues import skipped
from oscal_mcp.oscal.model_level import check_model
from oscal_mcp.oscal.models import get_model
from oscal_mcp.oscal.schema_level import schema_level
from oscal_mcp.oscal.schemas import choose_version
from oscal_mcp.oscal.validation import Request, validate
from oscal_mcp.server import build_server
from tests.metaschema.corpus import ssp_of_size

ROOT = Path(__file__).resolve().parents[1]
NIST_SSP = ROOT / "tests/metaschema/nist_examples/ssp-example.json"
REFERENCE_PYTHON = ROOT / ".bench-venvs/reference/bin/python"
CATALOG = Path(__file__).resolve().parents[1] / "oscal_mcp/content/nist/sp800-53-rev5/NIST_SP-800-53_rev5_catalog.json"


def _cases(text: bytes, model_name: str) -> dict[str, Callable[[], Any]]:
    model = get_model(model_name)
    document = parse_document(text, "json")
    choice = choose_version(document[model.root_key]["metadata"]["oscal-version"])

    def before() -> None:
        parsed = parse_document(text, "json")
        schema_level(model, parsed, 20, choice)
        check_model(model, parsed)

    return {
        "schema": lambda: schema_level(model, document, 20, choice),
        "constraints": lambda: constraint_level(model, document, 20, choice),
        "before": before,
        "whole": lambda: validate(Request(text, "json", None, "bench", 20)),
    }


def _time(run: Callable[[], Any], repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        run()
    return (time.process_time() - started) / repeat


def measure(name: str, text: bytes, model: str, blocks: int, repeat: int) -> None:
    cases = _cases(text, model)
    for run in cases.values():
        run()  # warm: schemas compiled, modules parsed
    times: dict[str, list[float]] = {key: [] for key in cases}
    order = list(cases)
    for block in range(blocks):
        for key in order if block % 2 == 0 else reversed(order):
            times[key].append(_time(cases[key], repeat))
    print(f"\n{name} ({len(text) / 1000:.0f} KB, {blocks} blocks x {repeat})")
    for key, values in times.items():
        print(f"  {key:12} median {statistics.median(values) * 1000:8.1f} ms")
    for top, bottom in (("constraints", "schema"), ("whole", "before")):
        ratios = sorted(a / b for a, b in zip(times[top], times[bottom], strict=True))
        print(f"  {top}/{bottom}: {statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f})")


async def _tool_path(text: str, blocks: int, calls: int) -> None:
    module = oscal.validation
    real = module.constraint_level

    def without(*args: Any, **kwargs: Any) -> Any:
        return skipped("constraints-valid", "bench: the road before the constraint level")

    times: dict[str, list[float]] = {"before": [], "whole": []}
    async with Client(build_server(load_settings({}))) as client:
        await client.call_tool("validate_oscal_content", {"content": text})
        for block in range(blocks):
            for key in ("before", "whole") if block % 2 == 0 else ("whole", "before"):
                module.constraint_level = without if key == "before" else real  # type: ignore[assignment]
                started = time.process_time()
                for _ in range(calls):
                    await client.call_tool("validate_oscal_content", {"content": text})
                times[key].append((time.process_time() - started) / calls)
    module.constraint_level = real  # type: ignore[assignment]
    ratios = sorted(a / b for a, b in zip(times["whole"], times["before"], strict=True))
    print(f"\nSSP through validate_oscal_content ({blocks} blocks x {calls} calls)")
    for key, values in times.items():
        print(f"  {key:12} median {statistics.median(values) * 1000:8.1f} ms")
    print(f"  whole/before: {statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f})")


def against_reference(path: Path, blocks: int, calls: int) -> None:
    """Our whole validation of `path` against the reference server's, in alternating blocks."""
    if not REFERENCE_PYTHON.exists():
        raise SystemExit(f"no reference venv at {REFERENCE_PYTHON.parents[1]}: see bench/README.md")
    ours = _cases(path.read_bytes(), "catalog")["whole"]
    driver = [str(REFERENCE_PYTHON), str(Path(__file__).with_name("reference_validate.py")), str(path)]
    with subprocess.Popen(driver, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as reference:
        assert reference.stdin is not None and reference.stdout is not None
        reference.stdout.readline()  # "ready"

        def theirs() -> float:
            reference.stdin.write(f"{calls}\n")  # type: ignore[union-attr]
            reference.stdin.flush()  # type: ignore[union-attr]
            return float(reference.stdout.readline())  # type: ignore[union-attr]

        times: dict[str, list[float]] = {"ours": [], "reference": []}
        for block in range(blocks):
            for key in ("ours", "reference") if block % 2 == 0 else ("reference", "ours"):
                times[key].append(_time(ours, calls) if key == "ours" else theirs())
        reference.stdin.close()
    ratios = sorted(b / a for a, b in zip(times["ours"], times["reference"], strict=True))
    print(f"\n{path.name}, whole validation against the reference server ({blocks} blocks x {calls})")
    for key, values in times.items():
        print(f"  {key:12} median {statistics.median(values) * 1000:8.1f} ms")
    print(f"  reference/ours: {statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference", action="store_true", help="also time the reference server")
    args = parser.parse_args()
    small = json.dumps(ssp_of_size(22_000)).encode()
    _cases(CATALOG.read_bytes(), "catalog")["whole"]()
    gc.freeze()  # as the server's warm-up does (oscal_mcp/oscal/warmup.py)
    measure("NIST ssp-example.json", NIST_SSP.read_bytes(), "system-security-plan", args.blocks, args.repeat * 10)
    measure("generated SSP", small, "system-security-plan", args.blocks, args.repeat * 10)
    measure("SP 800-53 rev 5 catalog", CATALOG.read_bytes(), "catalog", args.blocks, args.repeat)
    if args.reference:
        against_reference(CATALOG, args.blocks, args.repeat)
    anyio.run(_tool_path, small.decode(), args.blocks, args.repeat * 10)


if __name__ == "__main__":
    main()
