from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.tools.conftest import Connect, error_text, structured
from tests.tools.documents import catalog


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog()))
    return path


@pytest.mark.anyio
async def test_a_file_inside_the_root_is_validated(connect: Connect, good_file: Path) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_file", {"path": str(good_file)}))
    assert result["valid"] is True
    assert result["source"] == str(good_file)
    assert result["size_bytes"] == good_file.stat().st_size


@pytest.mark.anyio
async def test_relative_paths_start_at_the_first_root(connect: Connect, good_file: Path) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_file", {"path": "catalog.json"}))
    assert result["valid"] is True


@pytest.mark.anyio
async def test_a_yaml_file_is_read_as_yaml(connect: Connect, tmp_path: Path) -> None:
    import yaml

    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog()))
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_file", {"path": "catalog.yaml"}))
    assert result["format"] == "yaml" and result["valid"] is True


@pytest.mark.anyio
async def test_an_invalid_file_is_a_result_not_an_error(connect: Connect, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"catalog": ')
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_file", {"path": "broken.json"}))
    assert result["valid"] is False
    assert result["levels"][0]["errors"][0]["line"] == 1


@pytest.mark.anyio
async def test_a_path_outside_the_roots_is_refused(connect: Connect, tmp_path: Path) -> None:
    outside = tmp_path.parent / "outside.json"
    async with connect() as client:
        text = error_text(await client.call_tool("validate_oscal_file", {"path": str(outside)}))
    assert "outside the allowed file roots" in text and "OSCAL_FILE_ROOTS" in text


@pytest.mark.anyio
async def test_dot_dot_that_leaves_the_root_is_refused(connect: Connect, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.json").write_text("{}")
    async with connect(OSCAL_FILE_ROOTS=str(root)) as client:
        text = error_text(await client.call_tool("validate_oscal_file", {"path": "../secret.json"}))
    assert "outside the allowed file roots" in text


@pytest.mark.anyio
async def test_a_symlink_that_leaves_the_root_is_refused(connect: Connect, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.json").write_text("{}")
    (root / "link.json").symlink_to(tmp_path / "secret.json")
    (root / "dirlink").symlink_to(tmp_path)
    async with connect(OSCAL_FILE_ROOTS=str(root)) as client:
        for path in ("link.json", "dirlink/secret.json"):
            text = error_text(await client.call_tool("validate_oscal_file", {"path": path}))
            assert "outside the allowed file roots" in text


@pytest.mark.anyio
async def test_a_symlink_inside_the_root_is_followed(connect: Connect, tmp_path: Path, good_file: Path) -> None:
    (tmp_path / "alias.json").symlink_to(good_file)
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_file", {"path": "alias.json"}))
    assert result["valid"] is True


@pytest.mark.anyio
async def test_a_missing_file_a_directory_and_a_fifo_are_errors(connect: Connect, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe.json")
    async with connect() as client:
        assert "does not exist" in error_text(await client.call_tool("validate_oscal_file", {"path": "nope.json"}))
        assert "is a directory" in error_text(await client.call_tool("validate_oscal_file", {"path": "folder"}))
        assert "not a regular file" in error_text(await client.call_tool("validate_oscal_file", {"path": "pipe.json"}))


@pytest.mark.anyio
async def test_a_file_above_the_size_limit_is_refused(connect: Connect, good_file: Path) -> None:
    async with connect(OSCAL_MAX_DOCUMENT_BYTES="1024") as client:
        text = error_text(await client.call_tool("validate_oscal_file", {"path": str(good_file)}))
    assert "too large" in text and "OSCAL_MAX_DOCUMENT_BYTES" in text


@pytest.mark.anyio
async def test_remote_uris_are_refused_unless_enabled(connect: Connect) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool("validate_oscal_file", {"path": "https://example.org/catalog.json"}))
    assert "OSCAL_ALLOW_REMOTE_URIS" in text


@pytest.mark.anyio
async def test_remote_uris_to_loopback_are_refused_even_when_enabled(connect: Connect) -> None:
    async with connect(OSCAL_ALLOW_REMOTE_URIS="true") as client:
        text = error_text(await client.call_tool("validate_oscal_file", {"path": "http://127.0.0.1:9/catalog.json"}))
    assert "non-public address" in text
