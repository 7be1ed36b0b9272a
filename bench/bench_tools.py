"""Benchmark of the OSCAL tools: schema generation, and validate_oscal_content on generated catalogs.

    .venv/bin/python bench/bench_tools.py [--sizes 1,10] [--repeat 3]

Catalogs of about 1 MB and 10 MB (NIST SP 800-53 rev 5 is about 10 MB) are generated here, valid,
invalid (every control without its title) and invalid everywhere (every string replaced by a number:
the costliest kind of document to list schema errors for), and validated through an in-memory MCP
client session (the full tool path: argument validation, worker thread, result serialization).
Prints seconds, MB/s and the size of each result (``N+`` errors: the schema level stopped listing at
its time budget), plus a per-level breakdown (parse / JSON Schema / trestle model) measured on the
functions directly. Not collected by pytest (the file name does not start with test_).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anyio
from mcp import Client

from oscal_mcp.config import load_settings
from oscal_mcp.server import build_server
from oscal_mcp.tools import schema_errors, schemas
from oscal_mcp.tools.loading import parse_document
from oscal_mcp.tools.models import MODEL_NAMES, get_model
from oscal_mcp.tools.validation import model_issues, schema_level
from tests.tools.documents import catalog_of_size, numbers_for_strings

MB = 1_000_000


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - started, value


def bench_schema_generation() -> None:
    print("schema generation (first call per model, then cached):")
    total = 0.0
    for name in (*MODEL_NAMES, schemas.COMPLETE):
        seconds, schema = timed(schemas.model_schema, name)
        total += seconds
        print(f"  {name:32s} {seconds * 1000:7.1f} ms  {len(json.dumps(schema)) / 1000:6.1f} kB")
    cached, _ = timed(schemas.model_schema, "catalog")
    print(f"  all nine: {total:.2f} s; a cached call: {cached * 1e6:.1f} us")


def invalid(text: str) -> str:
    doc = json.loads(text)
    for group in doc["catalog"]["groups"]:
        for control in group["controls"]:
            del control["title"]
    return json.dumps(doc)


def invalid_everywhere(size: int) -> str:
    """A catalog of about `size` bytes in which every string below catalog.groups is a number."""
    doc = json.loads(catalog_of_size(int(size * 2.9)))  # numbers are shorter than the strings they replace
    doc["catalog"]["groups"] = numbers_for_strings(doc["catalog"]["groups"])
    return json.dumps(doc)


async def bench_tool(label: str, content: str, repeat: int) -> None:
    settings = load_settings({"OSCAL_MAX_DOCUMENT_BYTES": str(64 << 20)})
    async with Client(build_server(settings)) as client:
        runs = []
        result = None
        for _ in range(repeat):
            started = time.perf_counter()
            result = await client.call_tool("validate_oscal_content", {"content": content})
            runs.append(time.perf_counter() - started)
    assert result is not None and not result.is_error, result.content
    structured = result.structured_content or {}
    counts = {
        lv["level"]: f"{lv['error_count']}{'' if lv.get('error_count_complete', True) else '+'}"
        for lv in structured["levels"]
    }
    size = len(content.encode()) / MB
    best, median = min(runs), statistics.median(runs)
    result_bytes = len(json.dumps(structured))
    print(
        f"  {label:24s} {size:5.1f} MB  median {median:6.2f} s  best {best:6.2f} s  "
        f"{size / median:5.2f} MB/s  valid={structured['valid']!s:5s} errors={counts}  result {result_bytes} bytes"
    )


def bench_levels(label: str, content: str) -> None:
    model = get_model("catalog")
    parse_s, document = timed(parse_document, content, "json")
    schema_s, level = timed(schema_level, model, document, 20)
    model_s, _ = timed(lambda: sum(1 for _ in model_issues(model, document)))
    size = len(content) / MB
    count = f"{level.error_count}{'' if level.error_count_complete else '+'}"
    print(
        f"  per level, {label} {size:.1f} MB: parse {parse_s:.2f} s ({size / parse_s:.0f} MB/s), "
        f"JSON Schema {schema_s:.2f} s ({count} errors; listing budget {schema_errors.LISTING_BUDGET_SECONDS:g} s), "
        f"trestle model {model_s:.2f} s ({size / model_s:.1f} MB/s)"
    )
    fast = schemas.fast_validator("catalog")
    if fast is None:
        print("  jsonschema-rs is not installed: validity is checked with jsonschema too")
    else:
        gate_s, _ = timed(fast.is_valid, document)
        print(f"  jsonschema-rs validity check: {gate_s:.3f} s ({size / max(gate_s, 1e-6):.0f} MB/s)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10", help="catalog sizes in MB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_schema_generation()
    print("validate_oscal_content through an in-memory MCP session:")
    for size in (float(s) for s in args.sizes.split(",")):
        content = catalog_of_size(int(size * MB))
        everywhere = invalid_everywhere(int(size * MB))
        await bench_tool(f"valid catalog {size:g} MB", content, args.repeat)
        await bench_tool(f"invalid catalog {size:g} MB", invalid(content), args.repeat)
        await bench_tool(f"invalid everywhere {size:g} MB", everywhere, args.repeat)
        bench_levels("valid", content)
        bench_levels("invalid", invalid(content))
        bench_levels("invalid everywhere", everywhere)


if __name__ == "__main__":
    anyio.run(main)
