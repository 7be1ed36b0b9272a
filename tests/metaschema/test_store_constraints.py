"""The store's per-document check includes NIST's Metaschema constraints (list_oscal_documents)."""

from __future__ import annotations

import json
from pathlib import Path

from oscal_mcp.oscal.constraint_level import constraint_level
from oscal_mcp.oscal.models import get_model
from oscal_mcp.oscal.schemas import choose_version
from oscal_mcp.oscal.store import build_store
from oscal_mcp.oscal.store_checks import check_document
from oscal_mcp.tools.documents import summary
from oscal_mcp.tools.settings import ToolSettings
from tests.metaschema.corpus import fresh, uid

LIMITS = ToolSettings(max_document_bytes=64 * 1024, max_archive_bytes=256 * 1024)


def test_a_stored_document_breaking_a_constraint_is_listed_with_the_finding(tmp_path: Path) -> None:
    broken = fresh("profile")
    broken["profile"]["metadata"]["responsible-parties"][0]["party-uuids"] = [uid(999)]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    (tmp_path / "kept.json").write_text(json.dumps(fresh("profile")))
    store = build_store(tmp_path, LIMITS)
    listed = summary(store.find("broken.json")).validation
    assert listed.status == "valid"  # NIST's schema accepts it
    assert listed.constraints is not None and listed.constraints.status == "invalid"
    assert listed.constraints.error_count == 1
    assert listed.constraints.findings == [
        "$.profile.metadata.responsible-parties[0].party-uuids[0]: [oscal-index-metadata-party-uuid] "
        "'00000000-0000-4000-8000-0000000003e7' names nothing in index 'index-metadata-party-uuid' (no such key here)"
    ]


def test_warnings_leave_a_stored_document_valid() -> None:
    body = fresh("plan-of-action-and-milestones")["plan-of-action-and-milestones"]
    del body["poam-items"][0]["uuid"]
    constraints = check_document("plan-of-action-and-milestones", body).constraints
    assert constraints is not None
    assert (constraints.status, constraints.error_count, constraints.warning_count) == ("valid", 0, 1)
    assert constraints.findings[0].startswith("$.plan-of-action-and-milestones.poam-items[0]: [oscal-poam-item-uuid] ")


def test_a_level_stopped_by_its_time_budget_says_its_counts_are_lower_bounds() -> None:
    document = fresh("catalog")
    result = constraint_level(get_model("catalog"), document, 5, choose_version("1.2.3"), budget_seconds=0.0)
    assert result.error_count_complete is False
    assert "the counts are lower bounds" in (result.note or "")
