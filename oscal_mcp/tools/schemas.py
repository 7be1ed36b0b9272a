"""`get_oscal_schema`: NIST's published OSCAL JSON Schema or XML Schema of a model, unchanged."""

from __future__ import annotations

import json
from typing import Annotated, Any

from anyio import to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from oscal_mcp.content import BundledContentError, content_source, sha256_hex
from oscal_mcp.oscal.models import MODEL_NAMES, UnknownModelError, get_model
from oscal_mcp.oscal.schemas import (
    COMPLETE,
    SCHEMA_FORMATS,
    SchemaFormat,
    bundled_versions,
    newest_version,
    schema_bytes,
    schema_path,
)
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import enum_extra

SCHEMA_NAMES: tuple[str, ...] = (*MODEL_NAMES, COMPLETE)
_FORMAT_ALIASES: dict[str, SchemaFormat] = {"json": "json", "json-schema": "json", "jsonschema": "json", "xsd": "xsd"}


class OscalSchemaResult(BaseModel):
    model: str = Field(description="The model name, or 'complete' for all eight models in one schema.")
    format: SchemaFormat
    oscal_version: str = Field(description="The OSCAL release the schema belongs to.")
    file: str = Field(description="NIST's file name, e.g. oscal_catalog_schema.json.")
    sha256: str = Field(description="SHA-256 of the file as served (and as recorded in the content manifest).")
    origin: str | None = Field(description="Where NIST publishes the release.")
    license: str | None
    json_schema: dict[str, Any] | None = Field(default=None, description="The JSON Schema (format 'json').")
    xsd: str | None = Field(default=None, description="The XML Schema text (format 'xsd').")


def get_schema(model: str, format: str, version: str | None) -> tuple[OscalSchemaResult, str]:
    """The result and the file's text exactly as bundled; ToolError on a bad argument."""
    fmt = _FORMAT_ALIASES.get(format.strip().lower())
    if fmt is None:
        raise ToolError(f"format {clip(format, 40)!r} is not available; use one of: {', '.join(SCHEMA_FORMATS)}")
    name = COMPLETE if model.strip().lower() == COMPLETE else _model_name(model)
    release = _version(version)
    try:
        data = schema_bytes(name, release, fmt)
    except BundledContentError as exc:
        raise ToolError(f"the bundled schema failed its integrity check ({exc}); reinstall oscal-mcp") from None
    text = data.decode("utf-8")
    path = schema_path(name, release, fmt)
    source = content_source(path)
    result = OscalSchemaResult(
        model=name,
        format=fmt,
        oscal_version=release,
        file=path.rsplit("/", 1)[1],
        sha256=sha256_hex(data),
        origin=source.origin if source else None,
        license=source.fields.get("license") if source else None,
        json_schema=json.loads(text) if fmt == "json" else None,
        xsd=text if fmt == "xsd" else None,
    )
    return result, text


def _model_name(raw: str) -> str:
    try:
        return get_model(raw).name
    except UnknownModelError:
        raise ToolError(f"unknown OSCAL model {clip(raw, 60)!r}; use one of: {', '.join(SCHEMA_NAMES)}") from None


def _version(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return newest_version()
    wanted = raw.strip().removeprefix("v")
    if wanted not in bundled_versions():
        raise ToolError(
            f"OSCAL version {clip(raw, 40)!r} is not bundled; use one of: {', '.join(bundled_versions())} "
            "(or omit version for the newest)"
        )
    return wanted


def schema_call_result(result: OscalSchemaResult, text: str) -> CallToolResult:
    """A short description, then NIST's file unchanged as text; the whole result as structured content."""
    header = result.model_dump_json(exclude={"json_schema", "xsd"})
    return CallToolResult(
        content=[TextContent(type="text", text=header), TextContent(type="text", text=text)],
        structured_content=result.model_dump(mode="json"),
    )


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
                description="'json' (JSON Schema) or 'xsd' (XML Schema).", json_schema_extra=enum_extra(SCHEMA_FORMATS)
            ),
        ] = "json",
        version: Annotated[
            str | None,
            Field(
                description="The OSCAL release; omit for the newest bundled.",
                json_schema_extra=enum_extra(bundled_versions(), optional=True),
            ),
        ] = None,
    ) -> Annotated[CallToolResult, OscalSchemaResult]:
        """Return NIST's published schema of one OSCAL model, unchanged: the JSON Schema
        (format "json", draft-07) or the XML Schema (format "xsd"), e.g. for "catalog" or
        "system-security-plan", or "complete" for one schema covering all eight. These are the
        schemas validate_oscal_content checks against, with NIST's allowed values (enums), minimum
        item counts and patterns. The result names the OSCAL release, NIST's file name, its SHA-256
        and origin; the file itself follows as a second text block. Schemas are large (40-210 KB of
        JSON, 115-575 KB of XSD per file): fetch one to answer a structural question or to author
        content; to check a document, call validate_oscal_content instead."""
        result, text = await to_thread.run_sync(get_schema, model, format, version)
        return schema_call_result(result, text)

    server.add_tool(get_oscal_schema, name="get_oscal_schema", title="Get NIST's OSCAL schema", annotations=read_only())
