"""Profile imports resolve to store documents only, and trestle's resolution applies the profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oscal_mcp.oscal.catalogs import find_control, normalize_control_id, statement_text
from oscal_mcp.oscal.profiles import ProfileResolutionError, ResolutionCache, import_target, resolve
from oscal_mcp.oscal.store import DocumentStore, build_store
from oscal_mcp.tools.settings import ToolSettings
from tests.tools.documents import catalog
from tests.tools.store_documents import BUNDLED_CATALOG_HREF, tailored_profile, u

LIMITS = ToolSettings(max_document_bytes=1 << 20, max_archive_bytes=1 << 22)
CATALOG_SOURCE = "bundled:nist/sp800-53-rev5/NIST_SP-800-53_rev5_catalog.json"


def profile_importing(
    href: str, *, seed: int = 1200, back_matter: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    profile = tailored_profile()
    body = profile["profile"]
    body["uuid"] = u(seed)
    body["metadata"] = {**body["metadata"], "title": f"Profile {seed}"}
    body["imports"][0]["href"] = href
    if back_matter is not None:
        body["back-matter"] = {"resources": back_matter}
    return profile


def store_with(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> DocumentStore:
    for name, document in documents.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document))
    return build_store(tmp_path, LIMITS)


@pytest.mark.parametrize(
    "href",
    [
        "NIST_SP-800-53_rev5_catalog.xml",
        "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/"
        "NIST_SP-800-53_rev5_catalog-min.json",
        "../catalogs/NIST_SP-800-53_rev5_catalog.yaml",
    ],
)
def test_an_import_of_the_nist_catalog_by_any_name_is_the_bundled_catalog(tmp_path: Path, href: str) -> None:
    store = store_with(tmp_path, {"p.json": profile_importing(href)})
    profile = store.find("p.json", "profile")
    assert import_target(store, profile, href).source == CATALOG_SOURCE


def test_a_back_matter_import_follows_the_resource_links(tmp_path: Path) -> None:
    resource = {"uuid": u(1300), "rlinks": [{"href": "https://example.org/none.json"}, {"href": BUNDLED_CATALOG_HREF}]}
    store = store_with(tmp_path, {"p.json": profile_importing(f"#{u(1300)}", back_matter=[resource])})
    resolved = resolve(store, store.find("p.json", "profile"))
    assert [d.source for d in resolved.sources] == [CATALOG_SOURCE]
    assert [c.id for c in resolved.controls] == ["ac-1", "ac-2", "ac-2.1"]


def test_a_relative_import_prefers_the_document_next_to_the_importer(tmp_path: Path) -> None:
    inner = profile_importing(BUNDLED_CATALOG_HREF, seed=1400)
    outer = profile_importing("inner.json", seed=1401)
    outer["profile"]["imports"][0]["include-controls"] = [{"with-ids": ["ac-2"]}]
    store = store_with(tmp_path, {"profiles/inner.json": inner, "profiles/outer.json": outer})
    resolved = resolve(store, store.find("profiles/outer.json", "profile"))
    assert [d.source for d in resolved.sources] == ["profiles/inner.json", CATALOG_SOURCE]
    assert [c.id for c in resolved.controls] == ["ac-2"]
    ac2 = resolved.controls[0]
    assert next(p for p in ac2.params if p["id"] == "ac-2_prm_10")["values"] == ["every 30 days"]
    assert "every 30 days" in ac2.statement


def test_an_import_outside_the_store_is_refused_and_never_fetched(tmp_path: Path) -> None:
    store = store_with(tmp_path, {"p.json": profile_importing("https://127.0.0.1:9/private/catalog.json")})
    with pytest.raises(ProfileResolutionError, match=r"imports 'https://127\.0\.0\.1:9/private/catalog\.json'.*never"):
        resolve(store, store.find("p.json", "profile"))


def test_a_missing_back_matter_resource_is_named(tmp_path: Path) -> None:
    store = store_with(tmp_path, {"p.json": profile_importing("#no-such-resource")})
    with pytest.raises(ProfileResolutionError, match="not a back-matter resource"):
        resolve(store, store.find("p.json", "profile"))


def test_profiles_importing_each_other_are_refused(tmp_path: Path) -> None:
    first = profile_importing("second.json", seed=1500)
    second = profile_importing("first.json", seed=1501)
    store = store_with(tmp_path, {"first.json": first, "second.json": second})
    with pytest.raises(ProfileResolutionError, match="circular"):
        resolve(store, store.find("first.json", "profile"))


def test_a_profile_trestle_rejects_gives_an_error_naming_it(tmp_path: Path) -> None:
    broken = profile_importing(BUNDLED_CATALOG_HREF)
    broken["profile"]["imports"][0]["include-controls"] = [{"with-ids": 7}]
    store = store_with(tmp_path, {"broken.json": broken})
    with pytest.raises(ProfileResolutionError, match=r"trestle could not resolve broken\.json") as raised:
        resolve(store, store.find("broken.json", "profile"))
    assert store.find("broken.json", "profile").check.status == "invalid"
    assert str(raised.value).startswith(
        "trestle could not resolve broken.json: NIST's schema rejects broken.json: 1 schema error(s), first "
        "$.profile.imports[0].include-controls[0].with-ids: an integer is not of type 'array'; fix that first"
    )


def test_the_cache_keeps_a_bounded_number_of_resolutions(tmp_path: Path) -> None:
    store = store_with(tmp_path, {"a.json": profile_importing(BUNDLED_CATALOG_HREF, seed=1600)})
    cache = ResolutionCache(size=1)
    first = cache.get(store, store.find("a.json", "profile"))
    assert cache.get(store, store.find("a.json", "profile")) is first
    cache.get(store, store.find("privacy", "profile"))
    assert len(cache) == 1
    assert cache.get(store, store.find("a.json", "profile")) is not first


def test_control_ids_are_normalized_from_the_printed_forms() -> None:
    assert normalize_control_id("AC-2(1)") == "ac-2.1"
    assert normalize_control_id(" AC-2 (12) ") == "ac-2.12"
    assert normalize_control_id("ac-02") == "ac-2"
    assert normalize_control_id("ac-10") == "ac-10"


def test_statement_text_shows_assignments_and_selections() -> None:
    store = build_store(None, LIMITS)
    catalog = store.of_model("catalog")[0].body
    ac1 = find_control(catalog, "AC-1")
    assert ac1 is not None
    text = statement_text(ac1.obj)
    assert text.startswith("a. Develop, document, and disseminate to [Assignment: organization-defined personnel")
    assert "[Selection (one or more): Organization-level; Mission/business process-level; System-level]" in text


def test_relative_and_trestle_hrefs_pick_the_named_file_among_files_of_the_same_name(tmp_path: Path) -> None:
    first, second = catalog(), catalog()
    second["catalog"]["uuid"] = u(1700)
    store = store_with(
        tmp_path,
        {
            "a/cat.json": first,
            "b/cat.json": second,
            "b/p.json": profile_importing("cat.json", seed=1701),
            "p.json": profile_importing("trestle://a/cat.json", seed=1702),
        },
    )
    sibling = store.find("b/p.json", "profile")
    assert import_target(store, sibling, "cat.json").path == "b/cat.json"
    assert import_target(store, sibling, "../a/cat.json").path == "a/cat.json"
    assert import_target(store, store.find("p.json", "profile"), "trestle://a/cat.json").path == "a/cat.json"
