"""This server's own reference checks on an SSP, asked directly: which references are warned about,
where, with what message, and which odd shapes are left alone."""

from __future__ import annotations

from typing import Any

from oscal_mcp.oscal.metaschema.beyond import BEYOND, COMPONENT_RULE, CONTROL_RULE, ControlIds, beyond_nist
from oscal_mcp.oscal.metaschema.checking import Violation

REQUIREMENTS = ("system-security-plan", "control-implementation", "implemented-requirements")
PROFILE = "https://example.org/profile.json"


def _ssp(requirements: list[Any], **more: Any) -> dict[str, Any]:
    ssp = {
        "system-implementation": {"components": [{"uuid": "c-known"}]},
        "control-implementation": {"implemented-requirements": requirements},
    }
    return {"system-security-plan": ssp | more}


def _source(ids: set[str], asked: list[object] | None = None) -> Any:
    def control_ids(href: object) -> ControlIds:
        if asked is not None:
            asked.append(href)
        return frozenset(ids)

    return control_ids


def test_an_unknown_component_in_a_statement_is_warned_about_where_it_is() -> None:
    requirement = {
        "control-id": "ac-1",
        "statements": [{"by-components": [{"component-uuid": "c-known"}, {"component-uuid": "c-missing"}]}],
    }
    assert list(beyond_nist(_ssp([requirement]), None)) == [
        Violation(
            COMPONENT_RULE,
            "WARNING",
            (*REQUIREMENTS, 0, "statements", 0, "by-components", 1, "component-uuid"),
            f"'c-missing' names no component in system-implementation.components ({BEYOND})",
        )
    ]


def test_a_control_outside_the_imported_profile_names_the_control_and_the_profile() -> None:
    document = _ssp([{"control-id": "ac-1"}, {"control-id": "zz-9"}], **{"import-profile": {"href": PROFILE}})
    assert list(beyond_nist(document, _source({"ac-1"}))) == [
        Violation(
            CONTROL_RULE,
            "WARNING",
            (*REQUIREMENTS, 1, "control-id"),
            f"'zz-9' is not a control of the imported profile '{PROFILE}' ({BEYOND})",
        )
    ]


def test_controls_are_not_checked_without_a_source_or_an_href() -> None:
    document = _ssp([{"control-id": "zz-9"}], **{"import-profile": {"href": PROFILE}})
    assert list(beyond_nist(document, None)) == []
    asked: list[object] = []
    assert list(beyond_nist(_ssp([{"control-id": "zz-9"}]), _source({"ac-1"}, asked))) == []
    assert asked == []


def test_odd_shapes_are_left_alone() -> None:
    assert list(beyond_nist([], _source({"ac-1"}))) == []
    assert list(beyond_nist({"system-security-plan": []}, None)) == []
    odd = _ssp([{"control-id": "zz-9"}], **{"import-profile": "not-an-object", "system-implementation": "x"})
    assert list(beyond_nist(odd, _source({"ac-1"}))) == []
    lists = {"system-security-plan": {"control-implementation": ["not-an-object"]}}
    assert list(beyond_nist(lists, None)) == []


def test_an_empty_profile_href_is_shown_as_empty() -> None:
    document = _ssp([{"control-id": "zz-9"}], **{"import-profile": {"href": ""}})
    (warning,) = beyond_nist(document, _source({"ac-1"}))
    assert warning.message == f"'zz-9' is not a control of the imported profile '' ({BEYOND})"
