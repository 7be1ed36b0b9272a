from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

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
async def test_a_sibling_whose_name_extends_the_root_is_outside_it(connect: Connect, tmp_path: Path) -> None:
    root, sibling = tmp_path / "root", tmp_path / "root-evil"  # "root-evil" starts with "root"
    root.mkdir()
    sibling.mkdir()
    (sibling / "secret.json").write_text(json.dumps({"token": SECRET}))
    async with connect(OSCAL_FILE_ROOTS=str(root)) as client:
        for path in (str(sibling / "secret.json"), "../root-evil/secret.json"):
            text = error_text(await client.call_tool("validate_oscal_file", {"path": path}))
            assert "outside the allowed file roots" in text
            assert SECRET not in text


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


# -- which files are readable ------------------------------------------------------------------------

SECRET = "s3cr3t-value"


@pytest.mark.anyio
async def test_dotenv_and_other_hidden_files_are_never_read(connect: Connect, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"OSCAL_AUTH_CLIENT_SECRET={SECRET}\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config.json").write_text(json.dumps({"token": SECRET}))
    (tmp_path / "alias.json").symlink_to(tmp_path / ".env")
    async with connect() as client:
        for path in (".env", str(tmp_path / ".env"), ".git/config.json", "alias.json", "./.env"):
            text = error_text(await client.call_tool("validate_oscal_file", {"path": path, "model": "catalog"}))
            assert SECRET not in text
            assert "starts with '.'" in text and "hidden files and directories are never read" in text, text


@pytest.mark.anyio
async def test_only_json_and_yaml_files_are_read(connect: Connect, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text(f"password: {SECRET}\n")
    (tmp_path / "CATALOG.JSON").write_text(json.dumps(catalog()))
    (tmp_path / "catalog.YML").write_text(json.dumps(catalog()))
    async with connect() as client:
        text = error_text(await client.call_tool("validate_oscal_file", {"path": "notes.txt", "model": "catalog"}))
        upper = structured(await client.call_tool("validate_oscal_file", {"path": "CATALOG.JSON"}))
        yml = structured(await client.call_tool("validate_oscal_file", {"path": "catalog.YML"}))
    assert SECRET not in text and "only files ending in .json, .yaml, .yml are read" in text
    assert upper["valid"] is True and yml["valid"] is True


@pytest.mark.anyio
async def test_a_readable_file_that_is_not_oscal_is_not_echoed(connect: Connect, tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text(f"client_secret: {SECRET}\ncatalog: {SECRET}\n")
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_file", {"path": "settings.yaml"}))
    assert result["valid"] is False
    assert SECRET not in json.dumps(result)


@pytest.mark.anyio
async def test_the_tool_description_says_which_files_are_readable(connect: Connect) -> None:
    async with connect() as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    description = tools["validate_oscal_file"].description or ""
    assert ".json, .yaml or .yml" in description and "'.'" in description and ".env" in description


@pytest.mark.anyio
async def test_paths_are_resolved_in_a_worker_thread(
    connect: Connect, good_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    real = os.path.realpath

    def spy(path: Any, *args: Any, **kwargs: Any) -> Any:
        if "catalog.json" in str(path):
            threads.append(threading.get_ident())
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os.path, "realpath", spy)
    async with connect() as client:
        assert structured(await client.call_tool("validate_oscal_file", {"path": "catalog.json"}))["valid"]
    assert threads and threading.get_ident() not in threads


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd (Linux)")
def test_a_directory_swapped_for_a_symlink_after_the_check_is_refused(tmp_path: Path) -> None:
    from oscal_mcp.oscal.errors import AccessError
    from oscal_mcp.oscal.files import DOCUMENT_SUFFIXES, FilePolicy, read_local_file, resolve_local

    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "catalog.json").write_text("{}")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "catalog.json").write_text(json.dumps({"token": SECRET}))
    policy = FilePolicy((root,), DOCUMENT_SUFFIXES, hidden=False)
    checked = resolve_local("sub/catalog.json", policy)
    shutil.rmtree(root / "sub")  # the race, won by the attacker: the checked directory becomes a symlink
    (root / "sub").symlink_to(outside)
    with pytest.raises(AccessError, match="changed while it was being opened") as caught:
        read_local_file(checked, 1 << 20, shown="sub/catalog.json", policy=policy)
    assert "outside the allowed file roots" in str(caught.value)
    (root / ".git").mkdir()  # a swap into a hidden directory of the root is refused as well
    (root / ".git" / "catalog.json").write_text(json.dumps({"token": SECRET}))
    (root / "sub").unlink()
    (root / "sub").symlink_to(root / ".git")
    with pytest.raises(AccessError, match="changed while it was being opened") as caught:
        read_local_file(checked, 1 << 20, shown="sub/catalog.json", policy=policy)
    assert "hidden files and directories are never read" in str(caught.value)
