"""The file-root policy (oscal_mcp.oscal.files) at unit level: which real paths a `FilePolicy` allows,
how `resolve_local` and `read_local_file` refuse the rest, and that every refusal says what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oscal_mcp.oscal.errors import AccessError
from oscal_mcp.oscal.files import DOCUMENT_SUFFIXES, FilePolicy, opened_path, read_local_file, resolve_local


@pytest.fixture
def root(tmp_path: Path) -> Path:
    made = tmp_path / "root"
    made.mkdir()
    (made / "catalog.json").write_text("{}")
    return made.resolve()


def policy(*roots: Path, hidden: bool = False) -> FilePolicy:
    return FilePolicy(tuple(roots), DOCUMENT_SUFFIXES, hidden=hidden)


@pytest.mark.parametrize("raw", ["", "   ", "cat\x00alog.json"])
def test_an_empty_path_or_one_with_a_nul_is_refused_before_any_lookup(root: Path, raw: str) -> None:
    with pytest.raises(AccessError) as refused:
        resolve_local(raw, policy(root))
    assert str(refused.value) == "the path is empty or contains a NUL character"


def test_a_path_outside_every_root_says_which_roots_and_how_to_add_one(root: Path, tmp_path: Path) -> None:
    other = tmp_path / "root-evil"  # a sibling whose name extends the root's
    other.mkdir()
    (other / "secret.json").write_text("{}")
    with pytest.raises(AccessError) as refused:
        resolve_local(f"  {other / 'secret.json'} ", policy(root))
    assert str(refused.value) == (
        f"{str(other / 'secret.json')!r} is outside the allowed file roots ({root}); symlinks and '..' are "
        "resolved before this check. Ask the operator to add the directory to OSCAL_FILE_ROOTS"
    )


def test_a_refusal_inside_the_root_does_not_mention_the_roots(root: Path) -> None:
    with pytest.raises(AccessError) as refused:
        resolve_local("catalog.txt", policy(root))
    assert str(refused.value) == "'catalog.txt' is refused: only files ending in .json, .yaml, .yml are read"


def test_a_long_path_is_clipped_in_the_message(root: Path) -> None:
    raw = "/".join(["x" * 100] * 3) + ".txt"
    with pytest.raises(AccessError) as refused:
        resolve_local(raw, policy(root))
    assert str(refused.value).startswith(repr(raw[:199] + "\u2026") + " is refused")


def test_relative_paths_resolve_against_the_first_root_and_any_root_allows(root: Path, tmp_path: Path) -> None:
    second = tmp_path / "second"
    second.mkdir()
    (second / "profile.yaml").write_text("{}")
    both = policy(root, second.resolve())
    assert resolve_local("catalog.json", both) == root / "catalog.json"
    assert resolve_local(str(second / "profile.yaml"), both) == second.resolve() / "profile.yaml"


def test_the_root_itself_is_inside_the_policy(root: Path) -> None:
    assert FilePolicy((root,)).root_of(root) == root
    assert FilePolicy((root,)).problem(root, is_dir=True) is None


def test_suffixes_are_matched_case_insensitively_and_skip_directories(root: Path) -> None:
    assert policy(root).problem(root / "CATALOG.JSON") is None
    assert policy(root).problem(root / "sub", is_dir=True) is None
    assert policy(root).problem(root / "sub") == "is refused: only files ending in .json, .yaml, .yml are read"
    assert FilePolicy((root,)).problem(root / "notes.txt") is None  # no suffixes: any file


def test_a_hidden_name_anywhere_below_the_root_is_refused_unless_allowed(root: Path) -> None:
    message = "is refused: '.git' starts with '.', and hidden files and directories are never read"
    assert policy(root).problem(root / ".git" / "config.json") == message
    assert policy(root, hidden=True).problem(root / ".git" / "config.json") is None


def test_a_hidden_directory_above_the_root_does_not_count(tmp_path: Path) -> None:
    root = tmp_path / ".config" / "oscal"
    root.mkdir(parents=True)
    assert policy(root).problem(root / "catalog.json") is None


def test_a_file_within_the_limit_is_read_whole(root: Path) -> None:
    (root / "catalog.json").write_bytes(b"12345")
    assert read_local_file(root / "catalog.json", 5) == b"12345"


def test_a_file_over_the_limit_names_its_size_the_limit_and_the_setting(root: Path) -> None:
    (root / "catalog.json").write_bytes(b"123456")
    with pytest.raises(AccessError) as refused:
        read_local_file(root / "catalog.json", 5, shown="catalog.json")
    assert str(refused.value) == (
        "'catalog.json' is too large: 6 bytes, the limit is 5 bytes (OSCAL_MAX_DOCUMENT_BYTES)"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: None, "'{}' does not exist"),
        (lambda path: path.mkdir(), "'{}' is a directory; give the path of a JSON or YAML file"),
        (lambda path: os.mkfifo(path), "'{}' is not a regular file; give the path of a JSON or YAML file"),
    ],
    ids=["missing", "directory", "fifo"],
)
def test_only_a_regular_file_is_opened(root: Path, make: object, message: str) -> None:
    path = root / "thing.json"
    make(path)  # type: ignore[operator]
    with pytest.raises(AccessError) as refused:
        read_local_file(path, 100)
    assert str(refused.value) == message.format(path)


def test_a_symlink_as_the_last_component_is_not_followed_when_opening(root: Path) -> None:
    (root / "link.json").symlink_to(root / "catalog.json")
    with pytest.raises(AccessError, match="cannot be opened: "):
        read_local_file(root / "link.json", 100)


def test_the_file_actually_opened_is_checked_against_the_policy(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    with pytest.raises(AccessError) as refused:
        read_local_file(outside, 100, shown="outside.json", policy=policy(root))
    assert str(refused.value) == (
        "'outside.json' changed while it was being opened (a directory on its path was replaced?): the file "
        f"opened is outside the allowed file roots ({root}); refused"
    )
    assert read_local_file(root / "catalog.json", 100, policy=policy(root)) == b"{}"


def test_the_real_path_of_an_open_descriptor_is_known_on_linux(root: Path) -> None:
    fd = os.open(root / "catalog.json", os.O_RDONLY)
    try:
        assert opened_path(fd) == root / "catalog.json"
    finally:
        os.close(fd)
    assert opened_path(fd) is None  # closed: nothing to tell


def test_a_file_holding_more_than_its_reported_size_is_still_cut_at_the_limit() -> None:
    """Files in /proc report a size of 0: the limit holds on the bytes actually read too."""
    with pytest.raises(AccessError) as refused:
        read_local_file(Path("/proc/self/status"), 10, shown="status")
    assert str(refused.value) == "'status' is too large: 11 bytes, the limit is 10 bytes (OSCAL_MAX_DOCUMENT_BYTES)"


def test_a_descriptor_of_no_file_on_disk_has_no_real_path() -> None:
    reading, writing = os.pipe()
    try:
        assert opened_path(reading) is None  # /proc/self/fd/N names "pipe:[...]"
    finally:
        os.close(reading)
        os.close(writing)


def test_a_path_outside_several_roots_lists_them_all(root: Path, tmp_path: Path) -> None:
    second = (tmp_path / "second").resolve()
    assert policy(root, second).problem(tmp_path / "elsewhere.json") == (
        f"is outside the allowed file roots ({root}, {second})"
    )


def test_a_long_hidden_name_is_clipped_in_the_refusal(root: Path) -> None:
    name = "." + "h" * 80
    assert policy(root).problem(root / name / "c.json") == (
        f"is refused: {'.' + 'h' * 58 + chr(0x2026)!r} starts with '.', and hidden files and directories are never read"
    )


def test_a_name_longer_than_the_file_system_allows_is_an_access_error(tmp_path: Path) -> None:
    with pytest.raises(AccessError, match="cannot be resolved"):
        resolve_local("x" * 300 + ".json", policy(tmp_path))


def test_a_name_that_cannot_be_resolved_is_refused_with_the_systems_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AccessError, match=r"cannot be resolved: File name too long$"):
        resolve_local("x" * 300 + ".json", policy(tmp_path))

    def failing(path: object) -> str:
        raise OSError  # no reason given: the error's kind is named instead

    monkeypatch.setattr(os.path, "realpath", failing)
    with pytest.raises(AccessError, match=r"^'a.json' cannot be resolved: OSError$"):
        resolve_local("a.json", policy(tmp_path))


def test_a_file_the_server_may_not_read_is_refused_by_name(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = root / "c.json"
    path.write_text("{}")

    def refused(*args: object) -> int:
        raise PermissionError(13, "Permission denied")  # what a non-root server meets on a mode 000 file

    monkeypatch.setattr(os, "open", refused)
    with pytest.raises(AccessError) as error:
        read_local_file(path, 100, shown="c.json")
    assert str(error.value) == "'c.json' is not readable by the server"
