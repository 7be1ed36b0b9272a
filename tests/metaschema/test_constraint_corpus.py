"""Each constraint kind kept and broken, across the models, through the whole validation road.

Every broken document passes NIST's JSON Schema and compliance-trestle's models (the levels
before), so only the constraints-valid level can catch it; each finding must name the right
constraint, level and JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from oscal_mcp.oscal.validation import Request, ValidationResult, validate
from tests.metaschema.corpus import ALL, fresh, uid

Edit = Callable[[dict[str, Any]], None]


def run(document: dict[str, Any]) -> ValidationResult:
    return validate(Request(json.dumps(document), "json", None, "content", 20))


def findings(result: ValidationResult) -> list[tuple[str | None, str | None, str]]:
    level = result.levels[3]
    assert level.level == "constraints-valid"
    return [(i.severity, i.constraint_id, i.path) for i in level.errors + level.warnings]


@pytest.mark.parametrize("model", list(ALL))
def test_every_corpus_document_keeps_every_constraint(model: str) -> None:
    result = run(fresh(model))
    assert result.valid, result.summary
    assert findings(result) == []
    assert result.levels[3].note and "Metaschema modules" in result.levels[3].note


def _ssp(edit: Callable[[dict[str, Any]], None]) -> Edit:
    return lambda doc: edit(doc["system-security-plan"])


def _first_control(doc: dict[str, Any]) -> dict[str, Any]:
    control: dict[str, Any] = doc["catalog"]["groups"][0]["controls"][0]
    return control


SSP_IR = "$.system-security-plan.control-implementation.implemented-requirements"
SSP_COMPONENTS = "$.system-security-plan.system-implementation.components"

Finding = tuple[str, str, str]
BROKEN: dict[str, tuple[str, Edit, Finding | list[Finding]]] = {
    "allowed-values: a control prop name outside NIST's list": (
        "catalog",
        lambda d: _first_control(d)["props"].append({"name": "colour", "value": "blue"}),
        (
            "ERROR",
            "oscal-control-prop-name, oscal-metadata-prop-name-values",
            "$.catalog.groups[0].controls[0].props[2].name",
        ),
    ),
    "allowed-values: a cloud service model outside the list": (
        "system-security-plan",
        _ssp(lambda s: s["system-characteristics"]["props"][0].update(value="daas")),
        (
            "ERROR",
            "oscal-system-characteristics-prop-cloud-service-model-values",
            "$.system-security-plan.system-characteristics.props[0].value",
        ),
    ),
    "index-has-key: a responsible party naming an unknown party uuid": (
        "profile",
        lambda d: d["profile"]["metadata"]["responsible-parties"][0].update({"party-uuids": [uid(999)]}),
        ("ERROR", "oscal-index-metadata-party-uuid", "$.profile.metadata.responsible-parties[0].party-uuids[0]"),
    ),
    "index-has-key: a responsible party naming an unknown role id": (
        "assessment-plan",
        lambda d: d["assessment-plan"]["metadata"]["responsible-parties"][0].update({"role-id": "ghost"}),
        (
            "ERROR",
            "oscal-metadata-responsible-party-index-metadata-role-id",
            "$.assessment-plan.metadata.responsible-parties[0].role-id",
        ),
    ),
    "index-has-key: a depends-on link to a missing component": (
        "system-security-plan",
        _ssp(
            lambda s: s["system-implementation"]["components"][1].update(
                links=[{"href": uid(777), "rel": "depends-on"}]
            )
        ),
        ("ERROR", "oscal-system-implementation-component-depends-on-link-index", f"{SSP_COMPONENTS}[1].links[0].href"),
    ),
    "index: a duplicate component uuid": (
        "system-security-plan",
        _ssp(
            lambda s: s["system-implementation"]["components"].append(dict(s["system-implementation"]["components"][0]))
        ),
        ("ERROR", "oscal-system-implementation-component-uuid-index", f"{SSP_COMPONENTS}[2].uuid"),
    ),
    "index: a duplicate control id": (
        "catalog",
        lambda d: d["catalog"]["groups"][0]["controls"][1].update(id="g0-1"),
        [
            ("ERROR", "oscal-catalog-groups-controls-parts", "$.catalog.groups[0].controls[1].id"),
            ("ERROR", "oscal-catalog-controls", "$.catalog.groups[0].controls[1].id"),
        ],
    ),
    "is-unique: two responsible parties for one role": (
        "component-definition",
        lambda d: d["component-definition"]["metadata"]["responsible-parties"].append(
            {"role-id": "admin", "party-uuids": [uid(901)]}
        ),
        (
            "ERROR",
            "oscal-unique-metadata-responsible-party",
            "$.component-definition.metadata.responsible-parties[1].role-id",
        ),
    ),
    "matches: a lower-case country code": (
        "mapping-collection",
        lambda d: d["mapping-collection"]["metadata"]["parties"][0].update(addresses=[{"country": "us"}]),
        (
            "ERROR",
            "oscal-metadata-location-address-country-regex",
            "$.mapping-collection.metadata.parties[0].addresses[0].country",
        ),
    ),
    "matches: a release date that is no date": (
        "component-definition",
        lambda d: (
            d["component-definition"]["components"][0]
            .setdefault("props", [])
            .append({"name": "release-date", "value": "soon"})
        ),
        ("ERROR", "oscal-component-release-date-value-datatype", "$.component-definition.components[0].props[0].value"),
    ),
    "matches: a risk priority that is no integer": (
        "assessment-results",
        lambda d: d["assessment-results"]["results"][0].update(
            risks=[
                {
                    "uuid": uid(6100),
                    "title": "Weak passwords",
                    "description": "Passwords are short.",
                    "statement": "Accounts can be guessed.",
                    "status": "open",
                    "props": [{"name": "priority", "value": "high"}],
                }
            ]
        ),
        ("ERROR", "oscal-risk-priority-datatype", "$.assessment-results.results[0].risks[0].props[0].value"),
    ),
    "matches: a SHA-256 hash of the wrong length": (
        "profile",
        lambda d: d["profile"]["back-matter"]["resources"][0]["rlinks"][0].update(
            hashes=[{"algorithm": "SHA-256", "value": "abcd"}]
        ),
        ("ERROR", "oscal-check-hash-length-SHA2-3-256", "$.profile.back-matter.resources[0].rlinks[0].hashes[0].value"),
    ),
    "has-cardinality: an implemented requirement with no by-component": (
        "system-security-plan",
        _ssp(lambda s: s["control-implementation"]["implemented-requirements"][0].pop("by-components")),
        ("ERROR", "oscal-implemented-requirement-by-component-cardinality", f"{SSP_IR}[0]"),
    ),
    "has-cardinality: an activity without any method prop (too few is a violation too)": (
        "assessment-plan",
        lambda d: d["assessment-plan"].update(
            {
                "local-definitions": {
                    "activities": [{"uuid": uid(5100), "title": "Interview", "description": "Ask the administrator."}]
                }
            }
        ),
        ("ERROR", "oscal-activity-type-cardinality", "$.assessment-plan.local-definitions.activities[0]"),
    ),
    "expect: a control with no statement that is not withdrawn": (
        "catalog",
        lambda d: _first_control(d).update(parts=[p for p in _first_control(d)["parts"] if p["name"] != "statement"]),
        ("ERROR", "oscal-catalog-control-require-statement-when-appropriate", "$.catalog.groups[0].controls[0]"),
    ),
    "expect: a POA&M item without uuid (a warning)": (
        "plan-of-action-and-milestones",
        lambda d: d["plan-of-action-and-milestones"]["poam-items"][0].pop("uuid"),
        ("WARNING", "oscal-poam-item-uuid", "$.plan-of-action-and-milestones.poam-items[0]"),
    ),
    "expect: a port range that starts after its end (a warning)": (
        "system-security-plan",
        _ssp(
            lambda s: s["system-implementation"]["components"][1].update(
                protocols=[
                    {"uuid": uid(1500), "name": "https", "port-ranges": [{"start": 443, "end": 80, "transport": "TCP"}]}
                ]
            )
        ),
        (
            "WARNING",
            "oscal-component-protocol-port-range-starts-before-end",
            f"{SSP_COMPONENTS}[1].protocols[0].port-ranges[0]",
        ),
    ),
    "index-has-key: a related link to nothing in the catalog (a warning)": (
        "catalog",
        lambda d: _first_control(d).update(links=[{"href": "#nowhere", "rel": "related"}]),
        ("WARNING", "oscal-catalog-groups-controls-parts", "$.catalog.groups[0].controls[0].links[0].href"),
    ),
    "beyond NIST: a by-component naming no component (a warning)": (
        "system-security-plan",
        _ssp(
            lambda s: s["control-implementation"]["implemented-requirements"][0]["by-components"][0].update(
                {"component-uuid": uid(4242)}
            )
        ),
        ("WARNING", "oscal-mcp-by-component-component-uuid-exists", f"{SSP_IR}[0].by-components[0].component-uuid"),
    ),
    "beyond NIST: a control id the imported SP 800-53 baseline lacks (a warning)": (
        "system-security-plan",
        _ssp(lambda s: s["control-implementation"]["implemented-requirements"][0].update({"control-id": "zz-99"})),
        ("WARNING", "oscal-mcp-implemented-requirement-control-id-in-source", f"{SSP_IR}[0].control-id"),
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_constraint_is_reported_at_its_path_with_its_id_and_level(case: str) -> None:
    model, edit, expected = BROKEN[case]
    document = fresh(model)
    edit(document)
    result = run(document)
    assert [level.status for level in result.levels[:3]] == ["passed", "passed", "passed"], result.summary
    wanted = expected if isinstance(expected, list) else [expected]
    assert findings(result) == wanted
    warning_only = all(severity == "WARNING" for severity, _, _ in wanted)
    assert result.valid is warning_only
    level = result.levels[3]
    assert level.status == ("passed" if warning_only else "failed")
    assert (level.error_count, level.warning_count) == ((0, 1) if warning_only else (len(wanted), 0))


def test_beyond_nist_messages_say_so() -> None:
    document = fresh("system-security-plan")
    document["system-security-plan"]["control-implementation"]["implemented-requirements"][0]["control-id"] = "zz-99"
    (warning,) = run(document).levels[3].warnings
    assert "goes beyond NIST's rules" in warning.message and "'zz-99'" in warning.message


def test_messages_say_what_was_expected_and_where_the_first_duplicate_is() -> None:
    document = fresh("catalog")
    document["catalog"]["groups"][0]["controls"][1]["id"] = "g0-1"
    _first_control(document)["props"].append({"name": "colour", "value": "blue"})
    messages = {i.constraint_id: i.message for i in run(document).levels[3].errors}
    assert messages["oscal-catalog-controls"].endswith("it first appears at $.catalog.groups[0].controls[0].id")
    allowed = messages["oscal-control-prop-name, oscal-metadata-prop-name-values"]
    assert allowed == "'colour' is not an allowed value here; allowed: alt-identifier, label, marking, sort-id, status"


def test_values_are_never_quoted_whole() -> None:
    secret = "x" * 500
    document = fresh("mapping-collection")
    document["mapping-collection"]["metadata"]["parties"][0]["addresses"] = [{"country": secret}]
    (error,) = run(document).levels[3].errors
    assert secret not in error.message and len(error.message) < 200


def test_errors_are_capped_and_counted() -> None:
    document = fresh("catalog")
    props = _first_control(document)["props"]
    props.extend({"name": f"colour-{n}", "value": "blue"} for n in range(30))
    level = validate(Request(json.dumps(document), "json", None, "content", 5)).levels[3]
    assert level.error_count == 30 and len(level.errors) == 5 and level.errors_truncated


def test_a_document_stating_1_2_1_is_checked_with_the_1_2_1_modules() -> None:
    document = fresh("catalog")
    document["catalog"]["metadata"]["oscal-version"] = "1.2.1"
    note = run(document).levels[3].note or ""
    assert "NIST's OSCAL 1.2.1 Metaschema modules" in note
