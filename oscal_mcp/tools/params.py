"""Parameter helpers shared by the tool families."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from oscal_mcp.oscal.models import OscalModel, UnknownModelError, get_model

OffsetParam = Annotated[int, Field(ge=0, description="How many items to skip (from next_offset).")]


def enum_extra(values: tuple[str, ...], *, optional: bool = False) -> dict[str, Any]:
    """``json_schema_extra`` that lists a ``str`` parameter's accepted values as a JSON Schema enum.

    Parameters stay plain ``str`` (not ``Literal``) so a wrong value reaches the tool, which answers
    with the list of valid values (and accepts aliases such as ``ssp`` or ``poam``) instead of a
    pydantic error. `optional` adds ``null`` for parameters that default to None.
    """
    return {"enum": [*values, None] if optional else list(values)}


def requested_model(raw: str | None) -> OscalModel | None:
    """The model a caller's optional ``model`` argument names (aliases such as ``ssp`` or ``poam``
    accepted), None when omitted or empty; a ToolError listing the model names otherwise."""
    if raw is None or not raw.strip():
        return None
    try:
        return get_model(raw)
    except UnknownModelError as exc:
        raise ToolError(str(exc)) from None
