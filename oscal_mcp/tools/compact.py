"""Tool results as compact JSON text: the text block that repeats a tool's structured content
(MCP 2025-06-18, server/tools "Structured Content": a tool returning structured content SHOULD also
return it serialized in a text block) is written without indentation. The SDK indents it, which
makes the text an assistant reads (and every result on the wire) a third to a half larger than
the same JSON, for nothing."""

from __future__ import annotations

from typing import Any

import pydantic_core
from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

TOOL_CALL = "tools/call"


def compact_result(answer: BaseModel) -> CallToolResult:
    """An answer as one text block of compact JSON and the same as structured content, serialized
    once: kept (an answer cache) it costs the SDK only a check against the output schema per call."""
    return CallToolResult(
        content=[TextContent(type="text", text=answer.model_dump_json())],
        structured_content=answer.model_dump(mode="json"),
    )


async def compact_tool_text(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """A server middleware: a tool result (already in its wire form, a dict) whose only text block
    is its structured content serialized gets that block as compact JSON."""
    result = await call_next(ctx)
    if ctx.method != TOOL_CALL or not isinstance(result, dict) or result.get("isError"):
        return result
    structured, content = result.get("structuredContent"), result.get("content")
    if structured is None or not isinstance(content, list) or len(content) != 1:
        return result
    block = content[0]
    if not isinstance(block, dict) or block.get("type") != "text" or not str(block.get("text", "")).startswith("{\n"):
        return result  # already compact, or other text
    text = pydantic_core.to_json(structured, fallback=str).decode()
    return {**result, "content": [{**block, "text": text}]}
