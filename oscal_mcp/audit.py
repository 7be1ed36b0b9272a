"""The audit line of each tool call (with ``OSCAL_MCP_LOG_FORMAT=json``): who called which tool in
which session, and how it ended. An SDK middleware, so the tools themselves know nothing of it."""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import CallToolResult

from oscal_mcp_auth.logsafe import audit_extra, identity_fields, session_id_hash, shown

logger = logging.getLogger("oscal_mcp.audit")


def tool_failed(result: object) -> bool:
    """Whether a ``tools/call`` result reaches the client as a tool error (``isError``)."""
    if isinstance(result, CallToolResult):
        return bool(result.is_error)
    return isinstance(result, dict) and result.get("isError") is True


class ToolAudit:
    """Logs ``tool call: tool=<name> outcome=<ok|error>`` with the caller's identity as audit fields."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        name = ctx.params.get("name") if ctx.params else None
        outcome = "error"
        try:
            result = await call_next(ctx)
            outcome = "error" if tool_failed(result) else "ok"
            return result
        finally:
            self._log(ctx, str(name), outcome)

    def _log(self, ctx: ServerRequestContext[Any, Any], tool: str, outcome: str) -> None:
        access = get_access_token()
        headers = getattr(ctx.request, "headers", None)
        session = headers.get("mcp-session-id") if headers is not None else None
        logger.info(
            "tool call: tool=%s outcome=%s",
            shown(tool, 80),
            outcome,
            extra=audit_extra(
                outcome="accept",
                reason="ok",
                tool=tool,
                tool_outcome=outcome,
                session_id_hash=session_id_hash(session) if session else None,
                **(identity_fields(access) if access is not None else {}),
            ),
        )
