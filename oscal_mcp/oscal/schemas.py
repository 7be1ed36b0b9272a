"""NIST's published OSCAL schemas, bundled verbatim: the schema authority of this server.

``oscal_mcp/content/schemas/<version>/`` holds NIST's JSON Schemas (draft-07) and XML Schemas of
each bundled OSCAL release, as NIST publishes them (origin, version and SHA-256 in the content
manifest). `choose_version` picks the release for a document from its ``metadata.oscal-version``;
`validator` compiles a schema with jsonschema-rs once per process (a few milliseconds each, so
compiling lazily costs the first caller little; `warmup` does it ahead of time).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from oscal_mcp.content import bundled_paths, read_bundled
from oscal_mcp.oscal.models import get_model

SCHEMA_DIR = "schemas/"
COMPLETE = "complete"
SchemaFormat = Literal["json", "xsd"]
SCHEMA_FORMATS: tuple[SchemaFormat, ...] = ("json", "xsd")
_SEMVER = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")  # ASCII only: \d and int() take other scripts' digits


def _key(version: str) -> tuple[int, ...]:
    match = _SEMVER.fullmatch(version)
    return tuple(int(part) for part in match.groups()) if match else ()


@cache
def bundled_versions() -> tuple[str, ...]:
    """The OSCAL releases whose schemas are bundled, oldest first (from the content manifest)."""
    found = {path[len(SCHEMA_DIR) :].split("/", 1)[0] for path in bundled_paths(SCHEMA_DIR)}
    return tuple(sorted((v for v in found if _key(v)), key=_key))


def newest_version() -> str:
    return bundled_versions()[-1]


@dataclass(frozen=True)
class VersionChoice:
    """The bundled release to validate with (None when unsupported), and what to tell the caller."""

    version: str | None
    note: str | None = None


def choose_version(stated: object) -> VersionChoice:
    """The schema release for a document stating `stated` as its ``metadata.oscal-version``.

    The same release when bundled; else, within the same minor release, the nearest bundled patch
    release at or above it (patch releases fix errors, they add nothing); an earlier 1.x release is
    checked with the newest bundled one, with a note. Anything else (2.0, 1.9.0, "latest") is
    unsupported: `version` is None and `note` says what is bundled.
    """
    versions = bundled_versions()
    newest = versions[-1]
    if not isinstance(stated, str):
        return VersionChoice(newest, f"The document states no metadata.oscal-version; NIST's {newest} schema was used.")
    if stated in versions:
        return VersionChoice(stated)
    wanted = _key(stated.strip())
    if len(wanted) == 3 and wanted[0] == _key(newest)[0]:
        same_minor = [v for v in versions if _key(v)[:2] == wanted[:2]]
        if same_minor:
            chosen = next((v for v in same_minor if _key(v) >= wanted), same_minor[-1])
            return VersionChoice(
                chosen, f"OSCAL {stated} is not bundled; NIST's {chosen} schema (same minor release) was used."
            )
        if wanted[:2] < _key(newest)[:2]:
            return VersionChoice(
                newest,
                f"OSCAL {stated} is not bundled; NIST's {newest} schema, the newest bundled, was used. Later releases "
                "tightened a few rules (e.g. 1.2.0 requires a time zone on metadata dates), so an error may be one "
                f"that {stated} allowed.",
            )
    return VersionChoice(
        None,
        f"OSCAL version {stated[:40]!r} is not supported: this server bundles NIST's schemas for "
        f"{', '.join(versions)} (earlier 1.x documents are checked with {newest}). Set metadata.oscal-version "
        "to one of those to validate the document at this level.",
    )


def schema_path(name: str, version: str, fmt: SchemaFormat) -> str:
    """The bundled path of one schema file: ``name`` is a model name or ``complete``."""
    stem = COMPLETE if name == COMPLETE else get_model(name).schema_stem
    return f"{SCHEMA_DIR}{version}/oscal_{stem}_schema.{fmt}"


def schema_bytes(name: str, version: str, fmt: SchemaFormat) -> bytes:
    """The file exactly as NIST publishes it, checked against the content manifest on this read."""
    return read_bundled(schema_path(name, version, fmt))


@cache
def schema_json(name: str, version: str) -> dict[str, Any]:
    """A JSON Schema, parsed once; never mutate it."""
    parsed: dict[str, Any] = json.loads(schema_bytes(name, version, "json"))
    return parsed


@cache
def validator(name: str, version: str) -> Any:
    """The jsonschema-rs validator of a model's schema, compiled once per process.

    Formats are not checked (NIST's patterns carry the rules that matter, e.g. a time zone on
    dates); no ``$ref`` is ever fetched: every reference in NIST's schemas is local.
    """
    import jsonschema_rs

    return jsonschema_rs.Draft7Validator(schema_json(name, version), validate_formats=False)


@cache
def definition_validator(name: str, version: str, pointer: str) -> Any:
    """A jsonschema-rs validator of one definition of a model's schema (``#/definitions/...``), compiled once."""
    import jsonschema_rs

    schema = schema_json(name, version)
    return jsonschema_rs.Draft7Validator(
        {"$schema": schema["$schema"], "definitions": schema["definitions"], "$ref": pointer}, validate_formats=False
    )


@cache
def array_properties(name: str, version: str, pointer: str) -> dict[str, str]:
    """The properties of a definition that are arrays of one definition: name -> items' pointer.

    Properties inside ``anyOf``/``oneOf`` branches count when every branch that has the property
    gives it the same schema (NIST's group: ``groups`` in one branch, ``controls`` in the other).
    """
    definition = _definition(name, version, pointer)
    found: dict[str, str] = {}
    conflicting: set[str] = set()
    for properties in _property_sets(definition):
        for key, sub in properties.items():
            items = sub.get("items") if isinstance(sub, dict) and sub.get("type") == "array" else None
            ref = items.get("$ref") if isinstance(items, dict) and len(items) == 1 else None
            if not isinstance(ref, str) or found.get(key, ref) != ref:
                conflicting.add(key)
            else:
                found[key] = ref
    return {key: ref for key, ref in found.items() if key not in conflicting}


def _definition(name: str, version: str, pointer: str) -> dict[str, Any]:
    found = schema_json(name, version)["definitions"].get(pointer.removeprefix("#/definitions/"), {})
    return found if isinstance(found, dict) else {}


def _property_sets(definition: dict[str, Any]) -> list[dict[str, Any]]:
    sets = [definition.get("properties") or {}]
    for keyword in ("anyOf", "oneOf"):
        sets += [branch.get("properties") or {} for branch in definition.get(keyword) or () if isinstance(branch, dict)]
    return [properties for properties in sets if isinstance(properties, dict)]


def root_pointer(name: str, version: str) -> str | None:
    """The definition of the model's root object (``#/definitions/oscal-catalog-oscal-catalog:catalog``)."""
    root = schema_json(name, version).get("properties", {}).get(get_model(name).root_key, {})
    ref = root.get("$ref") if isinstance(root, dict) else None
    return ref if isinstance(ref, str) else None


@cache
def property_names(version: str) -> frozenset[str]:
    """Every property name NIST's complete schema defines (the JSON keys an OSCAL document may use)."""
    names: set[str] = set()
    pending: list[Any] = [schema_json(COMPLETE, version)]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                names.update(props)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return frozenset(names)


def definition_description(name: str, version: str, definition: str) -> str | None:
    """The description NIST gives a schema definition (e.g. ``DateTimeWithTimezoneDatatype``)."""
    found = schema_json(name, version).get("definitions", {}).get(definition)
    described = found.get("description") if isinstance(found, dict) else None
    return described if isinstance(described, str) else None
