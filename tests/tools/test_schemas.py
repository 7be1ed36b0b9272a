from __future__ import annotations

import hashlib
import json
import re

import pytest

from oscal_mcp.content import manifest_entries, read_bundled
from oscal_mcp.oscal.models import MODEL_NAMES
from oscal_mcp.oscal.schemas import bundled_versions, choose_version, schema_path
from oscal_mcp.tools.schemas import SCHEMA_NAMES
from tests.tools.conftest import Connect, error_text, structured


@pytest.mark.anyio
async def test_a_json_schema_is_nists_file_unchanged_with_its_origin_and_digest(connect: Connect) -> None:
    async with connect() as client:
        result = await client.call_tool("get_oscal_schema", {"model": "catalog"})
    body = structured(result)
    path = schema_path("catalog", "1.2.3", "json")
    bundled = read_bundled(path)
    served = result.content[1].text  # type: ignore[union-attr]
    assert served.encode() == bundled  # the very bytes NIST publishes
    assert body["sha256"] == hashlib.sha256(bundled).hexdigest() == manifest_entries()[path]
    assert body["file"] == "oscal_catalog_schema.json" and body["oscal_version"] == "1.2.3"
    assert body["origin"] == "https://github.com/usnistgov/OSCAL/releases/tag/v1.2.3"
    assert "public domain" in (body["license"] or "")
    assert body["json_schema"] == json.loads(bundled)
    assert body["json_schema"]["$id"] == "http://csrc.nist.gov/ns/oscal/1.2.3/oscal-catalog-schema.json"
    header = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert header["sha256"] == body["sha256"] and "json_schema" not in header


@pytest.mark.anyio
async def test_an_xsd_of_an_earlier_release_is_served_unchanged(connect: Connect) -> None:
    async with connect() as client:
        result = await client.call_tool(
            "get_oscal_schema", {"model": "system-security-plan", "format": "xsd", "version": "1.2.1"}
        )
    body = structured(result)
    bundled = read_bundled("schemas/1.2.1/oscal_ssp_schema.xsd")
    assert result.content[1].text.encode() == bundled  # type: ignore[union-attr]
    assert body["xsd"] == bundled.decode() and body["json_schema"] is None
    assert body["file"] == "oscal_ssp_schema.xsd" and body["oscal_version"] == "1.2.1"
    assert 'version="1.2.1"' in body["xsd"]


@pytest.mark.anyio
async def test_nists_enums_min_items_and_patterns_reach_the_author(connect: Connect) -> None:
    async with connect() as client:
        schema = structured(await client.call_tool("get_oscal_schema", {"model": "complete"}))["json_schema"]
    definitions = schema["definitions"]
    party = json.dumps(definitions["oscal-complete-oscal-metadata:metadata"]["properties"]["parties"]["items"])
    assert '"person"' in party and '"organization"' in party
    control = definitions["oscal-complete-oscal-catalog:control"]["properties"]
    assert control["controls"]["minItems"] == 1
    assert "Z|" in definitions["DateTimeWithTimezoneDatatype"]["pattern"]


@pytest.mark.anyio
async def test_bad_arguments_are_errors_listing_what_is_available(connect: Connect) -> None:
    async with connect() as client:
        model = error_text(await client.call_tool("get_oscal_schema", {"model": "catalogue"}))
        fmt = error_text(await client.call_tool("get_oscal_schema", {"model": "catalog", "format": "rnc"}))
        version = error_text(await client.call_tool("get_oscal_schema", {"model": "catalog", "version": "1.0.0"}))
    assert "unknown OSCAL model 'catalogue'" in model and all(name in model for name in SCHEMA_NAMES)
    assert "use one of: json, xsd" in fmt
    assert "'1.0.0' is not bundled" in version and "1.2.1, 1.2.3" in version


@pytest.mark.anyio
async def test_schema_sizes_match_what_the_description_states(connect: Connect) -> None:
    async with connect() as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        texts = {
            (name, fmt): (await client.call_tool("get_oscal_schema", {"model": name, "format": fmt})).content[1].text  # type: ignore[union-attr]
            for name in SCHEMA_NAMES
            for fmt in ("json", "xsd")
        }
    description = tools["get_oscal_schema"].description or ""
    json_range, xsd_range = re.findall(r"(\d+)-(\d+) KB of\s+(?:JSON|XSD)", description)
    for (name, fmt), text in texts.items():
        low, high = (int(n) for n in (json_range if fmt == "json" else xsd_range))
        assert low <= len(text) / 1000 <= high, (name, fmt, len(text))


def test_both_bundled_releases_cover_every_model_in_both_formats() -> None:
    assert bundled_versions() == ("1.2.1", "1.2.3")
    entries = manifest_entries()
    for version in bundled_versions():
        for name in (*MODEL_NAMES, "complete"):
            for fmt in ("json", "xsd"):
                assert schema_path(name, version, fmt) in entries  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stated", "version", "noted"),
    [
        ("1.2.1", "1.2.1", None),
        ("1.2.3", "1.2.3", None),
        ("1.2.0", "1.2.1", "same minor release"),
        ("1.2.2", "1.2.3", "same minor release"),
        ("1.2.9", "1.2.3", "same minor release"),
        ("1.1.3", "1.2.3", "the newest bundled"),
        ("1.0.0", "1.2.3", "the newest bundled"),
        (None, "1.2.3", "states no metadata.oscal-version"),
        ("1.3.0", None, "is not supported"),
        ("2.0.0", None, "is not supported"),
        ("latest", None, "is not supported"),
    ],
)
def test_the_schema_release_is_chosen_by_the_stated_oscal_version(
    stated: str | None, version: str | None, noted: str | None
) -> None:
    choice = choose_version(stated)
    assert choice.version == version
    assert (choice.note is None) if noted is None else (noted in (choice.note or ""))
