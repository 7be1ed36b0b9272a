"""The document store without MCP: loading, skipped documents, lookup, the FTS5 index and its query."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oscal_mcp.errors import ConfigError
from oscal_mcp.oscal.store import DocumentNotFoundError, DocumentStore, build_store
from oscal_mcp.oscal.store_checks import Checker, check_document
from oscal_mcp.oscal.store_index import QueryTextError, Row, SearchIndex, match_expression
from oscal_mcp.oscal.store_sources import classify
from oscal_mcp.tools.settings import ToolSettings
from tests.tools.store_documents import MARKERS, poam, ssp, u, write_documents

LIMITS = ToolSettings(max_document_bytes=64 * 1024, max_archive_bytes=256 * 1024)
_BUNDLED: list[DocumentStore] = []


def bundled_store() -> DocumentStore:
    """The store of the bundled content only, built once for the tests that only read it."""
    if not _BUNDLED:
        _BUNDLED.append(build_store(None, LIMITS))
    return _BUNDLED[0]


def test_bundled_content_holds_the_catalog_and_four_baselines_without_problems() -> None:
    store = bundled_store()
    assert store.problems == []
    assert len(store.of_model("catalog")) == 1
    names = sorted(d.file_name.split("_")[-2] for d in store.of_model("profile"))
    assert names == ["HIGH-baseline", "LOW-baseline", "MODERATE-baseline", "PRIVACY-baseline"]
    assert len(store.of_model("component-definition")) == 2


def test_documents_directory_adds_one_document_per_model(tmp_path: Path) -> None:
    store = build_store(write_documents(tmp_path), LIMITS)
    assert store.problems == []
    added = [d for d in store.documents if d.origin == "directory"]
    assert sorted(d.model for d in added) == sorted(MARKERS)
    assert store.find("profiles/capybara-profile.json").path == "profiles/capybara-profile.json"


def test_yaml_documents_and_zip_members_are_loaded(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "poam.yaml").write_text(yaml.safe_dump(poam()))
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("plans/ssp.json", json.dumps(ssp()))
    store = build_store(tmp_path, LIMITS)
    added = {d.source: d.model for d in store.documents if d.origin == "directory"}
    assert added == {"bundle.zip!plans/ssp.json": "system-security-plan", "poam.yaml": "plan-of-action-and-milestones"}


def problem_for(store: DocumentStore, name: str) -> str:
    found = [p for p in store.problems if p.startswith(name)]
    assert len(found) == 1, store.problems
    return found[0]


def test_bad_documents_are_skipped_and_reported_by_name(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text(json.dumps(poam()))
    (tmp_path / "malformed.json").write_text('{"catalog": {')
    (tmp_path / "not-oscal.json").write_text('{"name": "package.json"}')
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "no-uuid.json").write_text('{"catalog": {"metadata": {"title": "T"}}}')
    (tmp_path / "huge.json").write_text(json.dumps(poam()) + " " * 70_000)
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with zipfile.ZipFile(tmp_path / "escape.zip", "w") as archive:
        archive.writestr("../outside.json", "{}")

    store = build_store(tmp_path, LIMITS)

    assert [d.source for d in store.documents if d.origin == "directory"] == ["good.json"]
    assert "malformed JSON" in problem_for(store, "malformed.json") and "line 1" in problem_for(store, "malformed.json")
    assert "root keys: name" in problem_for(store, "not-oscal.json")
    assert "not a JSON/YAML object" in problem_for(store, "list.json")
    assert "needs a uuid and a metadata title" in problem_for(store, "no-uuid.json")
    assert "too large" in problem_for(store, "huge.json")
    assert "malformed YAML" in problem_for(store, "bad.yaml")
    assert "not a readable zip archive" in problem_for(store, "broken.zip")
    assert "leaves the archive" in problem_for(store, "escape.zip")


def test_hidden_files_are_never_read_and_links_leaving_the_directory_are_refused(tmp_path: Path) -> None:
    inside, outside = tmp_path / "docs", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    (outside / "secret.json").write_text(json.dumps(poam()))
    (inside / "link.json").symlink_to(outside / "secret.json")
    (inside / ".hidden.json").write_text(json.dumps(poam()))
    (inside / ".git").mkdir()
    (inside / ".git" / "poam.json").write_text(json.dumps(poam()))

    store = build_store(inside, LIMITS)

    assert [d for d in store.documents if d.origin == "directory"] == []
    assert "outside the allowed file roots" in problem_for(store, "link.json")
    assert len(store.problems) == 1


def test_classify_names_what_is_wrong() -> None:
    assert classify({"$schema": "x", "catalog": {"uuid": "u", "metadata": {"title": "t"}}}) == ("catalog", None)
    model, problem = classify({"catalog": {}, "profile": {}})
    assert model is None and problem is not None and "catalog, profile" in problem


def test_documents_are_found_by_uuid_file_name_stem_and_title_word() -> None:
    store = bundled_store()
    moderate = store.find("MODERATE", "profile")
    assert moderate.title.endswith("MODERATE IMPACT BASELINE")
    assert store.find(moderate.uuid.upper()) is moderate
    assert store.find("NIST_SP-800-53_rev5_MODERATE-baseline_profile.json") is moderate
    assert store.find("nist_sp-800-53_rev5_moderate-baseline_profile") is moderate


def test_an_ambiguous_or_unknown_document_name_lists_candidates() -> None:
    store = bundled_store()
    with pytest.raises(DocumentNotFoundError, match="matches 4 profile documents"):
        store.find("baseline", "profile")
    with pytest.raises(DocumentNotFoundError, match=r"no catalog document matches 'nothing'.*Known: NIST"):
        store.find("nothing", "catalog")


def test_search_finds_enhancements_by_id_and_printed_label() -> None:
    store = bundled_store()
    for text in ("ac-2.1", "AC-2(1)"):
        page = store.search(text, "catalog", 5, 0)
        document, found = store.entry(page.hits[0].entry)
        assert found is not None and (found.kind, found.ref) == ("control", "ac-2.1")
        assert document.model == "catalog"


def test_search_falls_back_to_any_word_and_filters_by_model() -> None:
    store = bundled_store()
    assert store.search("account zzzunknownword", None, 5, 0).mode == "any word"
    profiles_only = store.search("account", "profile", 50, 0)
    assert {store.entry(h.entry)[0].model for h in profiles_only.hits} <= {"profile"}
    assert store.search("account", "assessment-plan", 5, 0).total == 0


HOSTILE = [
    '"unbalanced',
    "NEAR(a b)",
    "a AND",
    "OR",
    "title:secret",
    "body : x",
    "^start",
    "-minus",
    "'); DROP TABLE entries; --",
    "\x00nul",
    "x" * 10_000,
    " ".join(["word"] * 1000),
    "{col1 col2}: x",
    "a + b",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_search_text_is_matched_as_words_never_as_fts_syntax(text: str) -> None:
    page = bundled_store().search(text, None, 5, 0)
    assert page.total >= 0 and page.mode in ("all words", "any word")


@pytest.mark.parametrize("text", ["", "   ", '"', "*", ")(", '""', "-- ;", "\x00"])
def test_search_text_without_a_word_is_a_clear_error(text: str) -> None:
    with pytest.raises(QueryTextError, match="no letters or digits"):
        bundled_store().search(text, None, 5, 0)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_either_searches_or_says_it_has_no_word(text: str) -> None:
    index = SearchIndex()
    index.add([Row(0, "catalog", "control", "ac-1", "Policy and procedures", "Develop and document a policy.")])
    try:
        page = index.search(text, None, 5, 0)
    except QueryTextError:
        assert not any(ch.isalnum() or ch == "_" for ch in text)
        return
    assert page.total in (0, 1)


def test_match_expression_quotes_every_word_and_caps_their_number() -> None:
    assert match_expression('say "hi" OR *') == '"say" """hi""" "OR"'
    assert match_expression("a b", any_word=True) == '"a" OR "b"'
    assert match_expression(" ".join(f"w{i}" for i in range(40))).count('"') == 32


def test_documents_dir_setting_is_read_and_checked(tmp_path: Path) -> None:
    assert ToolSettings.from_mapping({"OSCAL_DOCUMENTS_DIR": str(tmp_path)}).documents_dir == tmp_path
    assert ToolSettings.from_mapping({}).documents_dir is None
    with pytest.raises(ConfigError, match="OSCAL_DOCUMENTS_DIR"):
        ToolSettings.from_mapping({"OSCAL_DOCUMENTS_DIR": str(tmp_path / "missing")})


def test_the_store_and_profile_modules_import_neither_mcp_nor_trestle() -> None:
    code = (
        "import sys, oscal_mcp.oscal.store, oscal_mcp.oscal.profiles, oscal_mcp.oscal.catalogs\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'trestle')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_document_is_checked_against_nists_schema_when_the_store_is_built(tmp_path: Path) -> None:
    robot = poam()
    robot["plan-of-action-and-milestones"]["metadata"]["parties"] = [{"uuid": u(9000), "type": "robot"}]
    (tmp_path / "robot.json").write_text(json.dumps(robot))
    (tmp_path / "good.json").write_text(json.dumps(poam()))
    store = build_store(tmp_path, LIMITS)
    bad, good = store.find("robot.json"), store.find("good.json")
    assert (good.check.status, good.check.error_count) == ("valid", 0)
    assert bad.check.status == "invalid" and bad.check.error_count >= 1
    assert bad.check.errors[0].startswith("$.plan-of-action-and-milestones.metadata.parties[0].type: ")
    assert bad.check.schema_version == "1.2.1"  # the release the document states
    assert all(d.check.status == "valid" for d in store.documents if d.origin == "bundled")


def test_documents_beyond_the_check_budget_are_unchecked_and_say_how_to_check_them() -> None:
    checker = Checker(total_seconds=0.0)
    check = checker.check("plan-of-action-and-milestones", poam()["plan-of-action-and-milestones"])
    assert check.status == "unchecked" and "validate_oscal_file" in check.summary()


def test_a_document_stating_an_unsupported_oscal_version_is_invalid_with_the_reason() -> None:
    body = poam()["plan-of-action-and-milestones"]
    body["metadata"]["oscal-version"] = "2.0.0"
    check = check_document("plan-of-action-and-milestones", body)
    assert check.status == "invalid" and check.schema_version is None
    assert "'2.0.0' is not supported" in check.summary()
