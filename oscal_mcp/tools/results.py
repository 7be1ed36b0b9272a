"""Result shaping shared by the tool families: pages, a size budget, lists of skipped files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import cut_note, fit_bytes

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
MAX_PROBLEMS_SHOWN = 20
MAX_PROBLEM_CHARS = 300


class Page(BaseModel):
    total: int
    offset: int
    limit: int
    next_offset: int | None = Field(description="Pass as offset to get the next page; null on the last page.")
    cut: str | None = Field(
        default=None, description="When the page stopped at its size budget: where, and how to get the rest."
    )


def check_offset(offset: int, total: int) -> None:
    """A ToolError for an offset past the last item (offset 0 of an empty list is a valid, empty page)."""
    if offset and offset >= total:
        last = f"offsets 0 to {total - 1}" if total else "nothing to page through"
        raise ToolError(
            f"offset {offset} is past the end: there are {total} items ({last}); pass an offset below {total}, "
            "or 0 for the first page"
        )


def page(items: Sequence[T], offset: int, limit: int) -> tuple[list[T], Page]:
    check_offset(offset, len(items))
    chunk = list(items[offset : offset + limit])
    after = offset + len(chunk)
    return chunk, Page(total=len(items), offset=offset, limit=limit, next_offset=after if after < len(items) else None)


def budget_page(
    items: Sequence[T], offset: int, limit: int, build: Callable[[T], M], max_bytes: int
) -> tuple[list[M], Page]:
    """The page of `items` (see `page`), each built by `build` as far as `max_bytes` of JSON lets
    the page go (`fit_bytes`), and where the budget stopped it (`cut_note`)."""
    chunk, info = page(items, offset, limit)
    shown, _ = fit_bytes((build(item) for item in chunk), max_bytes)
    after = offset + len(shown)
    next_offset = after if after < len(items) else None
    cut = cut_note(len(shown), len(chunk), next_offset, max_bytes)
    return shown, info.model_copy(update={"next_offset": next_offset, "cut": cut})


def problem_lines(problems: Sequence[str]) -> list[str]:
    """The first `MAX_PROBLEMS_SHOWN` problems (skipped files and why), each clipped."""
    return [clip(problem, MAX_PROBLEM_CHARS) for problem in problems[:MAX_PROBLEMS_SHOWN]]
