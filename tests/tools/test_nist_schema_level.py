"""NIST's published schema is the authority at the schema level; trestle's errors come one by one."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from oscal_mcp.oscal.validation import Request, ValidationResult, validate
from tests.tools.documents import catalog, mapping_collection, poam, with_party


def check(document: dict[str, Any]) -> ValidationResult:
    return validate(Request(json.dumps(document), "json", None, "content", 20))


def party_robot() -> dict[str, Any]:
    return with_party(catalog(), "robot")


def mapping_robotic() -> dict[str, Any]:
    doc = mapping_collection()
    doc["mapping-collection"]["mappings"][0]["method"] = "robotic"
    return doc


def mappings_empty() -> dict[str, Any]:
    doc = mapping_collection()
    doc["mapping-collection"]["mappings"] = []
    return doc


def controls_empty() -> dict[str, Any]:
    doc = catalog()
    doc["catalog"]["groups"][0]["controls"][0]["controls"] = []
    return doc


def parts_empty() -> dict[str, Any]:
    doc = catalog()
    doc["catalog"]["groups"][0]["controls"][0]["parts"][0]["parts"] = []
    return doc


def finding_target_without_status() -> dict[str, Any]:
    doc = poam()
    del doc["plan-of-action-and-milestones"]["findings"][0]["target"]["status"]
    return doc


def no_time_zone() -> dict[str, Any]:
    doc = catalog()
    doc["catalog"]["metadata"]["last-modified"] = "2025-11-26T00:00:00"
    return doc


@pytest.mark.parametrize(
    ("make", "path", "says"),
    [
        (party_robot, "$.catalog.metadata.parties[0].type", "is not one of 'person', 'organization'"),
        (mapping_robotic, "$.mapping-collection.mappings[0].method", "is not one of 'human', 'automation', 'hybrid'"),
        (mappings_empty, "$.mapping-collection.mappings", "at least 1 item(s) expected"),
        (controls_empty, "$.catalog.groups[0].controls[0].controls", "at least 1 item(s) expected"),
        (parts_empty, "$.catalog.groups[0].controls[0].parts[0].parts", "at least 1 item(s) expected"),
        (
            finding_target_without_status,
            "$.plan-of-action-and-milestones.findings[0].target",
            "'status' is a required property",
        ),
        (no_time_zone, "$.catalog.metadata.last-modified", "DateTimeWithTimezoneDatatype"),
    ],
    ids=[
        "party-robot",
        "mapping-robotic",
        "mappings-empty",
        "controls-empty",
        "parts-empty",
        "target-no-status",
        "no-tz",
    ],
)
@pytest.mark.parametrize("version", ["1.2.1", "1.2.3"])
def test_what_nists_schema_rejects_fails_the_schema_level_at_its_path(
    make: Callable[[], dict[str, Any]], path: str, says: str, version: str
) -> None:
    document = make()
    (inner,) = document.values()
    inner["metadata"]["oscal-version"] = version
    result = check(document)
    schema = result.levels[1]
    assert result.valid is False and schema.status == "failed", schema
    assert result.schema_oscal_version == version
    assert [(e.path, says in e.message) for e in schema.errors] == [(path, True)], schema.errors


@pytest.mark.parametrize("make", [catalog, mapping_collection, poam], ids=["catalog", "mapping", "poam"])
def test_the_unchanged_documents_pass_every_level(make: Callable[[], dict[str, Any]]) -> None:
    result = check(make())
    assert result.valid, result.summary


def test_model_errors_are_reported_one_by_one_with_their_paths() -> None:
    document = {
        "catalog": {
            "uuid": "12345678-1234-4123-8123-123456789abc",
            "metadata": {"title": "T", "last-modified": "not-a-date", "version": "1.0"},
        }
    }
    model = check(document).levels[2]
    paths = {error.path: error.message for error in model.errors}
    assert set(paths) == {"$.catalog.metadata.last-modified", "$.catalog.metadata.oscal-version"}
    assert paths["$.catalog.metadata.oscal-version"] == "Field required"
    assert "datetime" in paths["$.catalog.metadata.last-modified"]
    assert not any("TrestleError" in message for message in paths.values())


def test_an_unsupported_oscal_version_is_a_clear_schema_level_failure() -> None:
    document = catalog()
    document["catalog"]["metadata"]["oscal-version"] = "2.0.0"
    result = check(document)
    (error,) = result.levels[1].errors
    assert error.path == "$.catalog.metadata.oscal-version"
    assert "'2.0.0' is not supported" in error.message and "1.2.1, 1.2.3" in error.message
    assert result.schema_oscal_version is None and result.valid is False
    assert result.levels[2].status == "passed"  # trestle's models do not pin the version


def test_an_earlier_release_is_checked_with_the_newest_schema_and_says_so() -> None:
    document = catalog()
    document["catalog"]["metadata"]["oscal-version"] = "1.1.2"
    result = check(document)
    assert result.valid and result.schema_oscal_version == "1.2.3"
    assert "OSCAL 1.1.2 is not bundled" in (result.levels[1].note or "")


def test_the_schema_level_does_not_change_the_document() -> None:
    document = parts_empty()
    before = copy.deepcopy(document)
    check(document)
    assert document == before
