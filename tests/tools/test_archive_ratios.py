"""Zip members against the compression-ratio limit, over ratios around it (hypothesis): a member is
refused exactly when its uncompressed size exceeds the limit times its compressed size."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from oscal_mcp.oscal.archives import MAX_COMPRESSION_RATIO, ArchiveLimits, read_zip_members
from oscal_mcp.oscal.errors import AccessError

ROOMY = ArchiveLimits(max_member_bytes=4 << 20, max_total_bytes=8 << 20)


def member_data(random_bytes: int, zeros: int, seed: int) -> bytes:
    """Incompressible bytes then zeros: the ratio grows with the share of zeros."""
    return random.Random(seed).randbytes(random_bytes) + b"\0" * zeros


def archive(path: Path, data: bytes) -> zipfile.ZipInfo:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as written:
        written.writestr("doc.json", data)
    with zipfile.ZipFile(path) as read:
        return read.getinfo("doc.json")


@settings(max_examples=40, deadline=None)
@given(
    random_bytes=st.integers(min_value=0, max_value=4000),
    zeros=st.integers(min_value=0, max_value=300_000),
    seed=st.integers(0, 3),
    slack=st.integers(min_value=-3, max_value=3),
)
def test_a_member_is_refused_exactly_above_the_ratio_limit(
    tmp_path_factory: pytest.TempPathFactory, random_bytes: int, zeros: int, seed: int, slack: int
) -> None:
    path = tmp_path_factory.mktemp("ratio") / "a.zip"
    data = member_data(random_bytes, zeros, seed)
    info = archive(path, data)
    limit = max(1, info.file_size // max(info.compress_size, 1) + slack)  # around the member's own ratio
    over = info.file_size > limit * max(info.compress_size, 1)  # the rule, written separately
    limits = ArchiveLimits(ROOMY.max_member_bytes, ROOMY.max_total_bytes, max_ratio=limit)
    if not over:
        event("accepted")
        assert read_zip_members(path, limits) == [("doc.json", data)]
        return
    event("refused")
    with pytest.raises(AccessError, match=rf"expands \d+:1, more than the {limit}:1 allowed \(a zip bomb\?\)"):
        read_zip_members(path, limits)


@pytest.mark.parametrize(("random_bytes", "zeros"), [(1500, 300_000), (400, 400_000)])
def test_the_default_limit_is_100_to_1(tmp_path: Path, random_bytes: int, zeros: int) -> None:
    """Members between 100:1 and 1000:1: refused by default (a limit of 1000 would let them by)."""
    data = member_data(random_bytes, zeros, 0)
    info = archive(tmp_path / "a.zip", data)
    assert 100 < info.file_size / info.compress_size < 1000
    assert MAX_COMPRESSION_RATIO == ROOMY.max_ratio == 100
    with pytest.raises(AccessError, match="more than the 100:1 allowed"):
        read_zip_members(tmp_path / "a.zip", ROOMY)


def test_a_member_just_under_the_default_limit_is_read(tmp_path: Path) -> None:
    data = member_data(3000, 250_000, 1)
    info = archive(tmp_path / "a.zip", data)
    assert 50 < info.file_size / info.compress_size <= 100
    assert read_zip_members(tmp_path / "a.zip", ROOMY) == [("doc.json", data)]


def test_a_member_exactly_at_the_limit_is_read(tmp_path: Path) -> None:
    """A stored member expands exactly 1:1, so a 1:1 limit lets it by."""
    path = tmp_path / "stored.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as written:
        written.writestr("doc.json", b'{"catalog": {}}')
    limits = ArchiveLimits(ROOMY.max_member_bytes, ROOMY.max_total_bytes, max_ratio=1)
    assert read_zip_members(path, limits) == [("doc.json", b'{"catalog": {}}')]
