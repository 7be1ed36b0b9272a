"""`validate_oscal_content` and `validate_oscal_file`: the MCP side of `oscal_mcp.oscal.validation`.

Bad content is a result, never an exception; a bad request (unknown model, file outside the
roots...) is a ToolError.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import anyio
from anyio import to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from oscal_mcp.oscal.control_sources import ControlIdSource, bundled_control_ids
from oscal_mcp.oscal.documents import FORMATS, DocumentFormat, guess_format
from oscal_mcp.oscal.errors import AccessError
from oscal_mcp.oscal.models import MODEL_NAMES
from oscal_mcp.oscal.text import utf8_size
from oscal_mcp.oscal.validation import Request, ValidationResult, validate
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import enum_extra, requested_model


def requested_format(raw: str) -> DocumentFormat:
    fmt = raw.strip().lower()
    if fmt == "yml":
        return "yaml"
    if fmt not in FORMATS:
        raise ToolError(f"format {raw!r} is not supported; use one of: {', '.join(FORMATS)} (XML is not supported)")
    return fmt


ModelParam = Annotated[
    str | None,
    Field(
        description="The OSCAL model to validate against; omit to detect it from the root key.",
        json_schema_extra=enum_extra(MODEL_NAMES, optional=True),
    ),
]


def register(server: MCPServer[Any], context: ToolContext) -> None:
    tools = context.tools
    limiter = anyio.CapacityLimiter(2)  # each large validation holds ~10x its size in memory

    def control_ids() -> ControlIdSource:
        """The beyond-NIST control-id check looks in the store once it is built (never builds it)."""
        if context.store.built:
            from oscal_mcp.oscal.store_control_ids import store_control_ids  # the store is imported by now

            return store_control_ids(context.store.get(), context.resolutions.get())
        return bundled_control_ids

    async def run(request: Request) -> ValidationResult:
        checked = replace(request, control_ids=control_ids())
        return await to_thread.run_sync(validate, checked, limiter=limiter)

    async def validate_oscal_content(
        content: Annotated[str, Field(description="The whole OSCAL document as JSON or YAML text.")],
        model: ModelParam = None,
        format: Annotated[
            str, Field(description="The syntax of content.", json_schema_extra=enum_extra(FORMATS))
        ] = "json",
    ) -> ValidationResult:
        """Validate an OSCAL document given as text (JSON by default, or YAML) and report four
        levels separately: well-formed (parses; errors give line and column), schema-valid (NIST's
        published JSON Schema of the OSCAL release the document states in metadata.oscal-version),
        model-valid (compliance-trestle's models) and constraints-valid (NIST's Metaschema
        constraints: allowed values, references by key, uniqueness, patterns; each finding has a
        constraint_id and a severity, and WARNINGs are listed apart without failing). The model is
        detected from the root key (e.g. "catalog", "system-security-plan") unless you pass model.
        Each level lists at most a fixed number of errors, each with a JSON path like
        $.catalog.groups[0].controls[3].id, plus the total error_count. Invalid content is a normal
        result with valid=false, not an error: fix the listed paths and validate again. For a file
        the server can read, call validate_oscal_file instead of pasting it."""
        chosen, fmt = requested_model(model), requested_format(format)
        size = utf8_size(content)
        if size > tools.max_document_bytes:
            raise ToolError(
                f"content is {size} bytes in UTF-8; the limit is {tools.max_document_bytes} bytes "
                "(OSCAL_MAX_DOCUMENT_BYTES). Save it to a file and ask the operator about the limit"
            )
        return await run(Request(content, fmt, chosen, "content", tools.max_errors))

    async def validate_oscal_file(
        path: Annotated[
            str,
            Field(
                description="A file path inside the server's allowed roots (relative paths start at the first "
                "root), or an http(s) URL when the server allows remote URIs."
            ),
        ],
        model: ModelParam = None,
    ) -> ValidationResult:
        """Validate an OSCAL JSON or YAML file the server can read (format from the suffix), with
        the same four levels and bounded error lists as validate_oscal_content. Readable files:
        those ending in .json, .yaml or .yml (any case) inside the server's configured roots
        (OSCAL_FILE_ROOTS, default: its working directory), and never a file or directory whose
        name starts with '.' (such as .env or .git); paths leaving the roots through '..' or
        symlinks are refused. http(s) URLs work only when the operator enabled
        OSCAL_ALLOW_REMOTE_URIS, for public hosts only; redirects are not followed. A refused path,
        a missing file, a directory or a file above the size limit is an error naming the cause."""
        from oscal_mcp.oscal.sources import read_source  # file/URL reading: imported at its first use

        chosen = requested_model(model)
        try:
            data, shown = await read_source(path, tools)
        except AccessError as exc:
            raise ToolError(str(exc)) from None
        fmt = guess_format(shown, data)
        return await run(Request(data, fmt, chosen, shown, tools.max_errors))

    server.add_tool(
        validate_oscal_content, name="validate_oscal_content", title="Validate OSCAL content", annotations=read_only()
    )
    server.add_tool(
        validate_oscal_file,
        name="validate_oscal_file",
        title="Validate an OSCAL file",
        annotations=read_only(open_world=tools.allow_remote_uris),
    )
