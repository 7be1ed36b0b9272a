"""`get_oscal_schema`: the JSON Schema of an OSCAL model, generated from compliance-trestle's models.

The schemas are not written by hand: pydantic generates them (``model_json_schema(by_alias=True)``,
JSON Schema draft 2020-12) from the trestle classes, which trestle generates from the NIST OSCAL
schemas. One change is made, and reported in the result: the root object accepts a ``$schema``
string, as the official OSCAL JSON schemas do. Generation takes tens of milliseconds per model (a
quarter of a second for ``complete``), so each schema and its validator are built once and cached.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import version
from typing import TYPE_CHECKING, Annotated, Any

from anyio import to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.models import MODEL_NAMES, UnknownModelError, enum_extra, get_model, oscal_version
from oscal_mcp.tools.models import trestle_root_class as root_class

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

COMPLETE = "complete"
SCHEMA_NAMES: tuple[str, ...] = (*MODEL_NAMES, COMPLETE)
FORMATS: tuple[str, ...] = ("json",)
_FORMAT_ALIASES = {"json": "json", "json-schema": "json", "jsonschema": "json"}
DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_KEY_PROPERTY: dict[str, Any] = {
    "type": "string",
    "format": "uri-reference",
    "description": "The JSON Schema the document claims to follow; ignored by validation.",
}
ADJUSTMENTS = (
    "The root object also accepts a '$schema' string (as the official OSCAL JSON schemas do).",
    "Optional fields appear as anyOf [type, null]: pydantic's rendering of optional fields.",
)


def generator() -> str:
    return (
        f"compliance-trestle {version('compliance-trestle')} pydantic models, "
        f"pydantic {version('pydantic')} model_json_schema(by_alias=True)"
    )


@cache
def model_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one model (by canonical name) or of ``complete``; cached, never mutate it."""
    if name == COMPLETE:
        return _complete_schema()
    schema = root_class(name).model_json_schema(by_alias=True)
    schema["properties"] = {"$schema": SCHEMA_KEY_PROPERTY, **schema["properties"]}
    return _with_header(schema, get_model(name).formal_name)


def _complete_schema() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    refs, schema = models_json_schema([(root_class(n), "validation") for n in MODEL_NAMES], by_alias=True)
    defs = schema["$defs"]
    one_of = []
    for name in MODEL_NAMES:
        ref = refs[(root_class(name), "validation")]["$ref"]
        wrapper = defs[ref.rsplit("/", 1)[1]]
        wrapper["properties"] = {"$schema": SCHEMA_KEY_PROPERTY, **wrapper["properties"]}
        one_of.append({"$ref": ref})
    return _with_header({"oneOf": one_of, "$defs": defs}, "OSCAL complete (any one of the eight models)")


def _with_header(schema: dict[str, Any], title: str) -> dict[str, Any]:
    header = {
        "$schema": DIALECT,
        "title": title,
        "description": f"OSCAL {oscal_version()} JSON Schema generated from {generator()}.",
    }
    return {**header, **{k: v for k, v in schema.items() if k not in header}}


@cache
def schema_validator(name: str) -> Validator:
    """A jsonschema validator for one model, built once (schema checks itself only in tests)."""
    from jsonschema import Draft202012Validator

    validator: Validator = Draft202012Validator(model_schema(name))
    return validator


@cache
def fast_validator(name: str) -> Any | None:
    """A jsonschema-rs validator when that optional package is installed, else None.

    It answers "valid or not" about 200 times faster than the pure-Python ``jsonschema`` (10 MB in
    0.05 s instead of 11 s). Only that answer is used: errors are always reported by ``jsonschema``,
    so results are the same with and without it. ``offline``: no ``$ref`` is ever fetched.
    """
    try:
        module = importlib.import_module("jsonschema_rs")
    except ImportError:
        return None
    return module.Draft202012Validator(model_schema(name), validate_formats=False, offline=True)


@cache
def property_names(name: str) -> frozenset[str]:
    """Every property name the model's schema defines (the JSON keys an OSCAL document may use)."""
    names: set[str] = set()
    pending: list[Any] = [model_schema(name)]
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


class OscalSchemaResult(BaseModel):
    model: str = Field(description="The model name, or 'complete' for all eight models in one schema.")
    format: str
    oscal_version: str = Field(description="The OSCAL version the schema follows.")
    generator: str = Field(description="What generated the schema (package and version).")
    dialect: str = Field(description="The JSON Schema dialect ($schema) of the schema.")
    adjustments: list[str] = Field(description="Changes made to the generated schema, if any.")
    json_schema: dict[str, Any]


def get_schema(model: str, format: str) -> OscalSchemaResult:
    fmt = _FORMAT_ALIASES.get(format.strip().lower())
    if fmt is None:
        raise ToolError(
            f"format {format!r} is not available: this server generates JSON Schema only, from "
            f"compliance-trestle's pydantic models; available formats: {', '.join(FORMATS)}. NIST publishes "
            "the XML Schemas (XSD) and its own JSON Schemas with each release at "
            "https://github.com/usnistgov/OSCAL/releases"
        )
    name = COMPLETE if model.strip().lower() == COMPLETE else _model_name(model)
    return OscalSchemaResult(
        model=name,
        format=fmt,
        oscal_version=oscal_version(),
        generator=generator(),
        dialect=DIALECT,
        adjustments=list(ADJUSTMENTS),
        json_schema=model_schema(name),
    )


def _model_name(raw: str) -> str:
    try:
        return get_model(raw).name
    except UnknownModelError:
        raise ToolError(f"unknown OSCAL model {raw!r}; use one of: {', '.join(SCHEMA_NAMES)}") from None


def register(server: MCPServer[Any], context: ToolContext) -> None:
    async def get_oscal_schema(
        model: Annotated[
            str,
            Field(
                description="The model name (its root key), or 'complete' for one schema covering all eight.",
                json_schema_extra=enum_extra(SCHEMA_NAMES),
            ),
        ],
        format: Annotated[
            str,
            Field(
                description="The schema format; only 'json' (JSON Schema) is served.",
                json_schema_extra=enum_extra(FORMATS),
            ),
        ] = "json",
    ) -> OscalSchemaResult:
        """Return the JSON Schema (draft 2020-12) of one OSCAL model, e.g. "catalog" or
        "system-security-plan", or "complete" for one schema that accepts any of the eight. The
        result says which OSCAL version the schema follows and what generated it (compliance-trestle's
        pydantic models, not a hand-written copy). Schemas are large (50-260 KB): fetch one only to
        answer a structural question or to author content; to check a document, call
        validate_oscal_content instead. Only format "json" is available (no XSD)."""
        return await to_thread.run_sync(get_schema, model, format)

    server.add_tool(get_oscal_schema, name="get_oscal_schema", title="Get an OSCAL JSON Schema")
