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
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.hints import read_only
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


NULL_SCHEMA: dict[str, Any] = {"type": "null"}


@cache
def validation_schema(name: str) -> dict[str, Any]:
    """The schema validation runs against: `model_schema` with optional fields rewritten equivalently.

    Pydantic renders an optional field as ``anyOf: [X, {"type": "null"}]``; when X fails, a validator
    computes and wraps X's errors once per such level, which is most of the cost of listing errors.
    ``if: {"type": "null"}, then: true, else: X`` accepts exactly the same values and reports X's
    errors directly. The schema served by get_oscal_schema is not rewritten.
    """
    rewritten: dict[str, Any] = without_null_branches(model_schema(name))
    return rewritten


def without_null_branches(node: Any) -> Any:
    """A copy of the schema `node` where each ``anyOf`` with a ``{"type": "null"}`` branch is an if/then/else."""
    if isinstance(node, list):
        return [without_null_branches(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "anyOf" and _nullable(node):
            rest = [without_null_branches(branch) for branch in value if branch != NULL_SCHEMA]
            out.update({"if": NULL_SCHEMA, "then": True, "else": rest[0] if len(rest) == 1 else {"anyOf": rest}})
        else:
            out[key] = without_null_branches(value)
    return out


def _nullable(node: dict[str, Any]) -> bool:
    branches = node.get("anyOf")
    return (
        isinstance(branches, list)
        and NULL_SCHEMA in branches
        and any(branch != NULL_SCHEMA for branch in branches)
        and not {"if", "then", "else"} & node.keys()
    )


@cache
def schema_validator(name: str) -> Validator:
    """The jsonschema validator that lists errors (see `schema_errors`), built once."""
    from oscal_mcp.tools.schema_errors import validator_class

    return validator_class()(validation_schema(name))


@cache
def fast_validator(name: str) -> Any | None:
    """A jsonschema-rs validator when that optional package is installed, else None.

    It answers "valid or not" about 200 times faster than the pure-Python ``jsonschema`` (10 MB in
    0.05 s instead of 11 s). Only that answer is used: errors are always listed by ``jsonschema``
    (skipping the subtrees `fast_validator_map` finds valid), so results are the same with and
    without it. ``offline``: no ``$ref`` is ever fetched.
    """
    module = _jsonschema_rs()
    if module is None:
        return None
    return module.Draft202012Validator(validation_schema(name), validate_formats=False, offline=True)


@cache
def fast_validator_map(name: str) -> Any | None:
    """jsonschema-rs validators of every subschema by JSON pointer (``#/$defs/Control``...), or None."""
    module = _jsonschema_rs()
    if module is None:
        return None
    return module.validator_map_for(validation_schema(name), validate_formats=False, offline=True)


def _jsonschema_rs() -> Any | None:
    try:
        return importlib.import_module("jsonschema_rs")
    except ImportError:
        return None


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


def compact_result(result: BaseModel) -> CallToolResult:
    """The result as compact JSON text (no indentation: a third smaller) plus structured content."""
    text = result.model_dump_json(by_alias=True)
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=result.model_dump(mode="json", by_alias=True)
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
    ) -> Annotated[CallToolResult, OscalSchemaResult]:
        """Return the JSON Schema (draft 2020-12) of one OSCAL model, e.g. "catalog" or
        "system-security-plan", or "complete" for one schema that accepts any of the eight. The
        result says which OSCAL version the schema follows and what generated it (compliance-trestle's
        pydantic models, not a hand-written copy). Schemas are large: 45-130 KB of compact JSON per
        model and 250 KB for "complete", each sent once as text and once as structured content.
        Fetch one only to answer a structural question or to author content; to check a document,
        call validate_oscal_content instead. Only format "json" is available (no XSD)."""
        result = await to_thread.run_sync(get_schema, model, format)
        return compact_result(result)

    server.add_tool(
        get_oscal_schema, name="get_oscal_schema", title="Get an OSCAL JSON Schema", annotations=read_only()
    )
