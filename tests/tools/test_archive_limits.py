"""Zip archives at the exact edges of their limits (members, sizes, the total budget) and the message
each refusal gives."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from oscal_mcp.oscal.archives import MAX_ARCHIVE_MEMBERS, ArchiveLimits, check_member_name, read_zip_members
from oscal_mcp.oscal.errors import AccessError
from oscal_mcp.oscal.files import FilePolicy


def write_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def refusal(path: Path, limits: ArchiveLimits, suffixes: tuple[str, ...] = (".json",)) -> str:
    with pytest.raises(AccessError) as refused:
        read_zip_members(path, limits, suffixes)
    return str(refused.value)


def test_the_member_count_limit_is_inclusive(tmp_path: Path) -> None:
    members = {f"m{i}.json": b"{}" for i in range(10)}
    path = write_zip(tmp_path / "ten.zip", members)
    assert len(read_zip_members(path, ArchiveLimits(1024, 1 << 20, max_members=10))) == 10
    assert refusal(path, ArchiveLimits(1024, 1 << 20, max_members=9)) == "'ten.zip' has 10 entries; at most 9 are read"
    assert ArchiveLimits(1, 1).max_members == MAX_ARCHIVE_MEMBERS == 1000


def test_every_entry_counts_and_only_wanted_members_are_read(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "mixed.zip", {"dir/": b"", "a.JSON": b"[1]", "notes.txt": b"x" * 50, "b.json": b"{}"})
    assert read_zip_members(path, ArchiveLimits(1024, 1 << 20)) == [("a.JSON", b"[1]"), ("b.json", b"{}")]
    assert read_zip_members(path, ArchiveLimits(1024, 1 << 20), (".txt",)) == [("notes.txt", b"x" * 50)]
    assert refusal(path, ArchiveLimits(1024, 1 << 20, max_members=3)).endswith("has 4 entries; at most 3 are read")


def test_a_member_of_exactly_the_size_limit_is_read(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "a.zip", {"a.json": b"x" * 100})
    assert read_zip_members(path, ArchiveLimits(max_member_bytes=100, max_total_bytes=1000)) == [("a.json", b"x" * 100)]
    assert refusal(path, ArchiveLimits(max_member_bytes=99, max_total_bytes=1000)) == (
        "'a.zip!a.json' is too large: 100 bytes, the limit is 99 bytes (OSCAL_MAX_DOCUMENT_BYTES)"
    )


def test_the_declared_total_of_wanted_members_is_checked_first(tmp_path: Path) -> None:
    members = {"a.json": b"x" * 3000, "b.json": b"y" * 3000, "c.txt": b"z" * 9000}
    path = write_zip(tmp_path / "t.zip", members, zipfile.ZIP_DEFLATED)  # a small file, large members
    assert len(read_zip_members(path, ArchiveLimits(3000, 6000, max_ratio=10_000))) == 2
    assert refusal(path, ArchiveLimits(3000, 5999, max_ratio=10_000)) == (
        "'t.zip' is too large: 6000 bytes, the limit is 5999 bytes (OSCAL_MAX_ARCHIVE_BYTES) uncompressed"
    )


def test_an_archive_file_larger_than_the_total_limit_is_refused_unopened(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "big.zip", {"a.json": b"x" * 400})
    size = path.stat().st_size
    assert len(read_zip_members(path, ArchiveLimits(max_member_bytes=size, max_total_bytes=size))) == 1
    assert refusal(path, ArchiveLimits(max_member_bytes=size, max_total_bytes=size - 1)) == (
        f"'big.zip' is too large: {size} bytes, the limit is {size - 1} bytes (OSCAL_MAX_ARCHIVE_BYTES)"
    )


@pytest.mark.parametrize(
    "member",
    ["/abs.json", "\\abs.json", "a\\b.json", "../x.json", "a/../../x.json", "c:/x.json", "C:x.json", "a/.."],
)
def test_a_member_path_that_leaves_the_archive_is_named(member: str) -> None:
    with pytest.raises(AccessError) as refused:
        check_member_name("a.zip", member)
    assert str(refused.value) == f"'a.zip' has a member with a path that leaves the archive ({member!r}); refused"


@pytest.mark.parametrize("member", ["a.json", "sub/a.json", "a..b.json", "sub/", "x:y/a.json".replace(":", "_")])
def test_a_member_path_inside_the_archive_passes(member: str) -> None:
    check_member_name("a.zip", member)


def test_an_encrypted_member_is_refused_by_name(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "e.zip", {"a.json": b"{}"})
    data = bytearray(path.read_bytes())
    data[6] |= 1  # the general-purpose flag's "encrypted" bit, in the local header...
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1  # ...and in the central directory
    path.write_bytes(bytes(data))
    assert refusal(path, ArchiveLimits(1024, 1 << 20)).startswith("'e.zip' has a member that cannot be read: ")


def test_with_a_policy_the_archive_actually_opened_must_be_inside_the_roots(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    write_zip(outside / "a.zip", {"a.json": b"{}"})
    (root / "sub").symlink_to(outside)  # a directory link on the path: followed by open, caught after it
    policy = FilePolicy((root.resolve(),), (".zip",))
    with pytest.raises(AccessError) as refused:
        read_zip_members(root / "sub" / "a.zip", ArchiveLimits(1024, 1 << 20), policy=policy)
    assert str(refused.value).startswith("'a.zip' changed while it was being opened")
    assert "outside the allowed file roots" in str(refused.value)
    assert read_zip_members(root / "sub" / "a.zip", ArchiveLimits(1024, 1 << 20)) == [("a.json", b"{}")]


def test_an_archive_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    with pytest.raises(AccessError) as refused:
        read_zip_members(tmp_path / "missing.zip", ArchiveLimits(1024, 1 << 20))
    assert str(refused.value) == "'missing.zip' does not exist"


def test_a_leaving_member_is_named_with_its_archive(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "bad.zip", {"ok.json": b"{}", "../evil.json": b"{}"})
    assert refusal(path, ArchiveLimits(1024, 1 << 20)) == (
        "'bad.zip' has a member with a path that leaves the archive ('../evil.json'); refused"
    )


def test_a_member_larger_than_one_read_chunk_comes_back_whole(tmp_path: Path) -> None:
    data = bytes(range(256)) * 6000  # about 1.5 MiB: two chunks of reading
    path = write_zip(tmp_path / "big.zip", {"big.json": data})
    assert read_zip_members(path, ArchiveLimits(2 << 20, 4 << 20)) == [("big.json", data)]
