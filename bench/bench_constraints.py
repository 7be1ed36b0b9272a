"""The constraint level's cost (issue #23), as ratios measured side by side in one run.

    .venv/bin/python bench/bench_constraints.py [--blocks 7] [--repeat 3]

Two documents: the bundled NIST SP 800-53 rev 5 catalog (3.1 MB) and a generated SSP of about
22 KB (`tests/metaschema/corpus.py`). For each, blocks alternate (A/B, then B/A, ...) between:

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
issue puts at about 10x ours before, so whole/before at most about 3.3x).
"""

from __future__ import annotations

import argparse
import json
import statistics
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    small = json.dumps(ssp_of_size(22_000)).encode()
    measure("SSP", small, "system-security-plan", args.blocks, args.repeat * 10)
    measure("SP 800-53 rev 5 catalog", CATALOG.read_bytes(), "catalog", args.blocks, args.repeat)
    anyio.run(_tool_path, small.decode(), args.blocks, args.repeat * 10)


if __name__ == "__main__":
    main()
