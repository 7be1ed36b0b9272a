"""NIST's OSCAL documentation, bundled verbatim: searched section by section, read page by page."""

from __future__ import annotations

import pytest

from oscal_mcp.content import content_source, read_bundled
from oscal_mcp.oscal.documentation import load_pages
from tests.tools.conftest import Connect, error_text, structured

pytestmark = pytest.mark.anyio

TUTORIAL = "oscal-docs:learn/tutorials/control/basic-catalog"


def test_every_bundled_page_has_a_title_and_a_link_to_nists_source_at_the_bundled_commit() -> None:
    pages = load_pages()
    source = content_source("docs/concepts/_index.md")
    assert source is not None and "public domain" in (source.fields.get("license") or "")
    assert len(pages) == 32 and all(page.title and page.sections for page in pages)
    commit = "6d1f867972692ae6bc22e0d7c55cba0dd02366b3"
    assert all(page.url.startswith(f"https://github.com/usnistgov/OSCAL/blob/{commit}/docs/content/") for page in pages)
    layers = next(page for page in pages if page.id == "concepts/layer/_index")
    assert layers.title == "Layers and Models"
    assert read_bundled("docs/concepts/layer/_index.md").decode().endswith(layers.text)  # verbatim, after front matter


async def test_a_search_finds_the_section_that_matched_and_reading_starts_there(connect: Connect) -> None:
    async with connect() as client:
        found = structured(await client.call_tool("search_oscal_docs", {"query": "profile resolution"}))
        hit = found["hits"][0]
        page = structured(await client.call_tool("read_oscal_doc", {"id": hit["id"]}))
    assert found["total"] >= 1 and "[" in hit["snippet"] and hit["url"].startswith("https://github.com/usnistgov/")
    assert page["title"] == hit["title"] and page["text"].lstrip("#").strip().startswith(hit["section"])


async def test_a_long_page_is_read_on_with_next_offset_until_its_end(connect: Connect) -> None:
    async with connect() as client:
        parts = []
        offset: int | None = 0
        while offset is not None:
            page = structured(await client.call_tool("read_oscal_doc", {"id": TUTORIAL, "offset": offset}))
            parts.append(page["text"])
            offset = page["next_offset"]
            assert page["cut"] is None or f"offset={offset}" in page["cut"]
    assert len(parts) > 3 and "".join(parts) == next(p.text for p in load_pages() if p.id == TUTORIAL.split(":")[1])


async def test_an_unknown_page_is_an_error_that_names_some_pages(connect: Connect) -> None:
    async with connect() as client:
        result = await client.call_tool("read_oscal_doc", {"id": "oscal-docs:nowhere"})
    assert "no documentation page 'oscal-docs:nowhere'" in error_text(result) and "concepts/" in error_text(result)


async def test_the_connector_search_ends_with_documentation_pages_that_fetch_returns(connect: Connect) -> None:
    async with connect() as client:
        results = structured(await client.call_tool("search", {"query": "profile resolution"}))["results"]
        pages = [r for r in results if r["id"].startswith("oscal-docs:")]
        fetched = structured(await client.call_tool("fetch", {"id": pages[0]["id"]}))
    assert pages and results.index(pages[0]) >= len(results) - 3
    assert fetched["metadata"]["kind"] == "documentation" and fetched["url"] == pages[0]["url"] and fetched["text"]
