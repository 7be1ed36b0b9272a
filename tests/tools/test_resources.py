from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from oscal_mcp.tools.resources import TOPICS, catalog
from tests.tools.conftest import Connect, error_text, structured


@pytest.mark.anyio
async def test_all_resources_are_listed_without_a_topic(connect: Connect) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("list_oscal_resources", {}))
    assert result["topic"] is None
    assert result["total"] == len(result["resources"]) >= 15
    assert result["topics"] == list(TOPICS)
    names = {r["name"] for r in result["resources"]}
    assert {"usnistgov/oscal-content", "compliance-trestle", "oscal-cli"} <= names


@pytest.mark.anyio
async def test_a_topic_filters_the_resources(connect: Connect) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("list_oscal_resources", {"topic": "catalogs"}))
    assert result["total"] >= 2
    assert all("catalogs" in r["topics"] for r in result["resources"])


@pytest.mark.anyio
async def test_an_unknown_topic_lists_the_valid_ones(connect: Connect) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool("list_oscal_resources", {"topic": "videos"}))
    assert "unknown topic 'videos'" in text
    assert all(topic in text for topic in TOPICS)


def test_every_resource_has_an_https_url_a_known_topic_and_a_one_line_description() -> None:
    resources = catalog().resources
    assert len({r.url for r in resources}) == len(resources)
    for resource in resources:
        assert urlsplit(resource.url).scheme == "https", resource.url
        assert resource.topics and set(resource.topics) <= set(TOPICS), resource.name
        assert "\n" not in resource.description and len(resource.description) < 250, resource.name
    covered = {topic for r in resources for topic in r.topics}
    assert covered == set(TOPICS)


@pytest.mark.anyio
async def test_a_resource_list_failing_its_integrity_check_is_a_clear_error(
    connect: Connect, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import oscal_mcp.content as content
    from oscal_mcp.tools import resources

    copy = tmp_path / "content"
    shutil.copytree(Path(content.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "resources.json").write_text('{"topics": [], "resources": []}')
    monkeypatch.setattr(content, "content_root", lambda: copy)
    resources.CATALOG.reset()
    try:
        async with connect() as client:
            tampered = error_text(await client.call_tool("list_oscal_resources", {}))
            (copy / "resources.json").unlink()
            missing = error_text(await client.call_tool("list_oscal_resources", {}))
    finally:
        resources.CATALOG.reset()
    for text in (tampered, missing):
        assert "failed its integrity check" in text and "resources.json" in text and "reinstall" in text, text
