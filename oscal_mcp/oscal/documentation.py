"""NIST's OSCAL documentation pages (concepts, models, tutorials), bundled verbatim as Markdown under
``content/docs/`` (origin and commit in the content manifest), as pages and sections to search.

A page's id is its path under ``docs/content`` without ``.md`` (``concepts/layer/_index``); its
title and description come from its Hugo front matter; its sections are split at Markdown headings
so a search hit points at the part of a long tutorial that matched. Each page links to NIST's own
source at the bundled commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oscal_mcp.content import bundled_paths, content_source, read_bundled

DOCS_PREFIX = "docs/"
DOC_ID_PREFIX = "oscal-docs:"
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_FIELD = re.compile(r"^(title|description):\s*(.*)$", re.MULTILINE)
_HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SOURCE_COMMIT = re.compile(r"\b([0-9a-f]{40})\b")


@dataclass(frozen=True)
class DocSection:
    page: str  # the page id
    number: int  # 0: the text before the first heading
    heading: str
    start: int  # where it starts in the page's text
    text: str


@dataclass(frozen=True)
class DocPage:
    id: str
    path: str  # inside the content package
    title: str
    description: str
    text: str  # the Markdown after the front matter
    url: str
    sections: tuple[DocSection, ...]


def page_id(path: str) -> str:
    return path.removeprefix(DOCS_PREFIX).removesuffix(".md")


def _front_matter(raw: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(raw)
    if match is None:
        return {}, raw
    fields = {key: value.strip().strip("'\"") for key, value in _FIELD.findall(match.group(1))}
    return fields, raw[match.end() :]


def _sections(page: str, text: str) -> tuple[DocSection, ...]:
    cuts = [(m.start(), m.group(2).strip()) for m in _HEADING.finditer(text)]
    starts = [(0, ""), *cuts] if not cuts or cuts[0][0] > 0 else cuts
    found = []
    for number, (start, heading) in enumerate(starts):
        end = starts[number + 1][0] if number + 1 < len(starts) else len(text)
        found.append(DocSection(page, number, heading, start, text[start:end]))
    return tuple(found)


def _url(path: str) -> str:
    """NIST's source of the page at the bundled commit (the manifest's origin names it)."""
    source = content_source(path)
    commit = _SOURCE_COMMIT.search(source.origin or "") if source is not None else None
    ref = commit.group(1) if commit else "main"
    return f"https://github.com/usnistgov/OSCAL/blob/{ref}/docs/content/{path.removeprefix(DOCS_PREFIX)}"


def load_page(path: str) -> DocPage:
    fields, text = _front_matter(read_bundled(path).decode("utf-8"))
    identifier = page_id(path)
    title = fields.get("title") or identifier.rsplit("/", 1)[-1]
    return DocPage(
        id=identifier,
        path=path,
        title=title,
        description=fields.get("description", ""),
        text=text,
        url=_url(path),
        sections=_sections(identifier, text),
    )


def load_pages() -> list[DocPage]:
    """Every bundled documentation page, each checked against the content manifest."""
    return [load_page(path) for path in bundled_paths(DOCS_PREFIX) if path.endswith(".md")]
