"""The constraint checker on its own: each kind's message and path, the report's caps, the deadline,
and the note when ``doc()`` names a document that is not loaded."""

from __future__ import annotations

from typing import Any

import pytest

from oscal_mcp.oscal.metaschema.checking import Report, Violation, check, shown
from oscal_mcp.oscal.metaschema.registry import load_metaschema
from tests.metaschema.corpus import fresh, uid


def _check(document: dict[str, Any], max_kept: int = 20, budget_seconds: float = 60.0) -> Report:
    report = check(document, load_metaschema("1.2.3"), max_kept, budget_seconds)
    assert report is not None
    return report


def _only(report: Report) -> Violation:
    (violation,) = report.errors + report.warnings
    return violation


def test_a_corpus_document_is_complete_and_clean() -> None:
    report = _check(fresh("system-security-plan"))
    assert report.complete and report.notes == []
    assert (report.errors, report.warnings, report.error_count, report.warning_count) == ([], [], 0, 0)


def test_anything_but_an_oscal_document_is_not_checked() -> None:
    assert check({"not-oscal": {}}, load_metaschema("1.2.3"), 5, 60.0) is None


def test_an_allowed_values_breach_names_the_value_and_every_allowed_value() -> None:
    document = fresh("catalog")
    document["catalog"]["groups"][0]["controls"][0]["props"].append({"name": "colour", "value": "blue"})
    violation = _only(_check(document))
    assert violation == Violation(
        "oscal-control-prop-name, oscal-metadata-prop-name-values",
        "ERROR",
        ("catalog", "groups", 0, "controls", 0, "props", 2, "name"),
        "'colour' is not an allowed value here; allowed: alt-identifier, label, marking, sort-id, status",
    )
    assert violation.is_error


def test_a_long_list_of_allowed_values_is_cut_after_twelve() -> None:
    document = fresh("system-security-plan")
    component = document["system-security-plan"]["system-implementation"]["components"][1]
    component.setdefault("props", []).append({"name": "colour", "value": "blue"})
    message = _only(_check(document)).message
    listed = message.split("allowed: ", 1)[1]
    assert listed.endswith(" and 23 more") and len(listed.split(", ")) == 12


def test_a_value_allowed_by_one_of_several_constraints_is_allowed() -> None:
    document = fresh("catalog")
    document["catalog"]["groups"][0]["controls"][0]["props"].append({"name": "marking", "value": "x"})
    assert _check(document).error_count == 0  # allowed by the metadata rule only


def test_a_regex_breach_names_the_value_and_the_pattern() -> None:
    document = fresh("mapping-collection")
    document["mapping-collection"]["metadata"]["parties"][0]["addresses"] = [{"country": "us"}]
    assert _only(_check(document)) == Violation(
        "oscal-metadata-location-address-country-regex",
        "ERROR",
        ("mapping-collection", "metadata", "parties", 0, "addresses", 0, "country"),
        "'us' does not match the pattern [A-Z]{2}",
    )


def test_a_datatype_breach_names_the_value_and_the_type() -> None:
    document = fresh("component-definition")
    document["component-definition"]["components"][0].setdefault("props", []).append(
        {"name": "release-date", "value": "soon"}
    )
    assert _only(_check(document)) == Violation(
        "oscal-component-release-date-value-datatype",
        "ERROR",
        ("component-definition", "components", 0, "props", 0, "value"),
        "'soon' is not a valid date",
    )


def test_a_duplicate_in_an_is_unique_names_where_the_key_first_appears() -> None:
    document = fresh("component-definition")
    document["component-definition"]["metadata"]["responsible-parties"].append(
        {"role-id": "admin", "party-uuids": [uid(901)]}
    )
    assert _only(_check(document)) == Violation(
        "oscal-unique-metadata-responsible-party",
        "ERROR",
        ("component-definition", "metadata", "responsible-parties", 1, "role-id"),
        "key 'admin' must be unique; it first appears at"
        " $.component-definition.metadata.responsible-parties[0].role-id",
    )


def test_a_duplicate_in_an_index_names_the_index_and_the_first_key() -> None:
    document = fresh("catalog")
    document["catalog"]["groups"][0]["controls"][1]["id"] = "g0-1"
    report = _check(document)
    assert [(v.constraint_id, v.path, v.message) for v in report.errors] == [
        (
            f"oscal-{name}",
            ("catalog", "groups", 0, "controls", 1, "id"),
            f"key 'g0-1' must be unique in index '{name}'; it first appears at $.catalog.groups[0].controls[0].id",
        )
        for name in ("catalog-groups-controls-parts", "catalog-controls")
    ]


def test_a_key_naming_nothing_in_its_index_is_reported_at_the_key() -> None:
    document = fresh("profile")
    document["profile"]["metadata"]["responsible-parties"][0]["party-uuids"] = [uid(999)]
    assert _only(_check(document)) == Violation(
        "oscal-index-metadata-party-uuid",
        "ERROR",
        ("profile", "metadata", "responsible-parties", 0, "party-uuids", 0),
        f"'{uid(999)}' names nothing in index 'index-metadata-party-uuid' (no such key here)",
    )


def test_a_key_flag_naming_nothing_is_reported_at_the_flag() -> None:
    document = fresh("profile")
    document["profile"]["metadata"]["responsible-parties"][0]["role-id"] = "ghost"
    violation = _only(_check(document))
    assert violation.path == ("profile", "metadata", "responsible-parties", 0, "role-id")
    assert violation.message == "'ghost' names nothing in index 'index-metadata-role-id' (no such key here)"


def test_too_few_items_for_a_cardinality_says_how_many_and_the_bound() -> None:
    document = fresh("system-security-plan")
    document["system-security-plan"]["control-implementation"]["implemented-requirements"][0].pop("by-components")
    assert _only(_check(document)) == Violation(
        "oscal-implemented-requirement-by-component-cardinality",
        "ERROR",
        ("system-security-plan", "control-implementation", "implemented-requirements", 0),
        "0 item(s) match .//by-component; expected at least 1",
    )


def test_a_failed_expectation_keeps_the_module_message_and_level() -> None:
    document = fresh("plan-of-action-and-milestones")
    document["plan-of-action-and-milestones"]["poam-items"][0].pop("uuid")
    report = _check(document)
    violation = _only(report)
    assert violation == Violation(
        "oscal-poam-item-uuid",
        "WARNING",
        ("plan-of-action-and-milestones", "poam-items", 0),
        "It is a best practice to provide a UUID.",
    )
    assert not violation.is_error and (report.error_count, report.warning_count) == (0, 1)


def test_errors_are_capped_per_level_but_all_counted() -> None:
    document = fresh("catalog")
    props = document["catalog"]["groups"][0]["controls"][0]["props"]
    props.extend({"name": f"colour-{n}", "value": "blue"} for n in range(7))
    report = _check(document, max_kept=3)
    assert report.error_count == 7 and len(report.errors) == 3
    assert [v.path[-2] for v in report.errors] == [2, 3, 4]  # the first ones, in document order


def test_warnings_are_capped_apart_from_errors() -> None:
    report = Report(max_kept=1)
    for level in ("WARNING", "INFORMATIONAL", "CRITICAL", "ERROR"):
        report.add(Violation("c", level, (), "m"))
    assert [v.level for v in report.errors] == ["CRITICAL"] and [v.level for v in report.warnings] == ["WARNING"]
    assert (report.error_count, report.warning_count) == (2, 2)


def test_a_spent_budget_stops_the_check_and_says_it_is_incomplete() -> None:
    document = fresh("catalog")
    document["catalog"]["groups"][0]["controls"][1]["id"] = "g0-1"
    report = _check(document, budget_seconds=-1.0)
    assert not report.complete and report.error_count == 0


def test_keys_an_unloaded_document_may_define_are_not_reported_and_a_note_says_so() -> None:
    document = fresh("system-security-plan")
    ssp = document["system-security-plan"]
    ssp["system-implementation"]["leveraged-authorizations"] = [
        {
            "uuid": uid(3000),
            "title": "Cloud",
            "party-uuid": uid(901),
            "date-authorized": "2025-01-01",
            "links": [{"href": "https://example.com/cloud-ssp.json", "rel": "system-security-plan"}],
        }
    ]
    by_component = ssp["control-implementation"]["implemented-requirements"][0]["by-components"][0]
    by_component["links"] = [{"href": f"#{uid(4040)}", "rel": "provided-by"}]
    report = _check(document)
    assert report.error_count == 0
    assert report.notes == [
        "Some constraints name another document with doc() (an imported SSP); it was not loaded, "
        "so keys defined only there were not checked."
    ]


@pytest.mark.parametrize(
    ("value", "text"), [("short", "'short'"), ("x" * 40, repr("x" * 40)), ("y" * 41, repr("y" * 39 + "…"))]
)
def test_values_in_messages_are_quoted_and_clipped_to_forty_characters(value: str, text: str) -> None:
    assert shown(value) == text
