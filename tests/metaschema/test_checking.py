"""The constraint checker on its own: each kind's message and path, the report's caps, the deadline,
and the note when ``doc()`` names a document that is not loaded."""

from __future__ import annotations

import time
from typing import Any

import pytest

from oscal_mcp.oscal.metaschema.checking import _HANDLERS, Report, Violation, _Run, _Step, check, shown
from oscal_mcp.oscal.metaschema.metapath_eval import Environment, compile_metapath
from oscal_mcp.oscal.metaschema.model import AllowedValue, Constraint, ConstraintKind, KeyField
from oscal_mcp.oscal.metaschema.nodes import Node, PathParts
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


# Each handler on a small hand-made view, with constraints of our own (NIST's modules have no
# allowed-values warning, no message on these kinds, no upper bound alone).


def _view() -> tuple[Environment, Node]:
    top = Node("", None, (), "", 0)
    control = Node("control", top, ("control",), "", 1)
    top.add(control)
    control.set_flag("id", "ac-1")
    for order, (name, value) in enumerate([("label", "AC-1"), ("status", "withdrawn")], start=2):
        prop = Node("prop", control, ("props", order - 2), "", order)
        prop.set_flag("name", name)
        prop.set_flag("value", value)
        control.add(prop)
    part = Node("part", control, ("parts", 0), "", 4)
    part.set_flag("id", "ac-1_smt")
    control.add(part)
    ports = Node("port-range", control, ("port-ranges", 0), "", 5)
    ports.set_flag("start", 443)
    control.add(ports)
    title = Node("title", control, ("title",), "", 6)
    title.text = "Access control"
    control.add(title)
    return Environment(top, {}), control


def _constraint(kind: ConstraintKind, target: str, **fields: Any) -> Constraint:
    fields.setdefault("level", "ERROR")
    fields.setdefault("id", f"{kind}-{target}")
    return Constraint(kind=kind, target=target, owner="assembly:control", module="test", **fields)


def _apply(*constraints: Constraint, contexts: int = 1) -> Report:
    env, control = _view()
    report = Report(max_kept=10)
    run = _Run(load_metaschema("1.2.3"), env, report, time.monotonic() + 60)
    for constraint in constraints:
        values = frozenset(allowed.value for allowed in constraint.values)
        step = _Step(constraint, _HANDLERS[constraint.kind], compile_metapath(constraint.target), None, values)
        run.apply(step, [control] * contexts)
    run.finish()
    return report


def _found(report: Report) -> list[tuple[str, str, PathParts, str]]:
    return [(v.constraint_id, v.level, v.path, v.message) for v in report.errors + report.warnings]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (None, 1, "2 item(s) match prop; expected at most 1"),
        (3, None, "2 item(s) match prop; expected at least 3"),
        (3, 4, "2 item(s) match prop; expected 3 to 4"),
        (0, 1, "2 item(s) match prop; expected 0 to 1"),
        (2, 2, None),
        (None, None, None),
    ],
)
def test_a_cardinality_names_its_bounds(low: int | None, high: int | None, expected: str | None) -> None:
    report = _apply(_constraint("has-cardinality", "prop", min_occurs=low, max_occurs=high))
    assert [v.message for v in report.errors] == ([] if expected is None else [expected])
    assert all(v.path == ("control",) for v in report.errors)


def _allowed(*values: str, **fields: Any) -> Constraint:
    return _constraint("allowed-values", "prop/@name", values=tuple(AllowedValue(v, "") for v in values), **fields)


def test_values_refused_by_every_constraint_are_one_violation_of_them_all() -> None:
    report = _apply(_allowed("x", id="b", level="WARNING"), _allowed("label", id="a", level="WARNING"))
    assert _found(report) == [
        ("a, b", "WARNING", ("control", "props", 1, "name"), "'status' is not an allowed value here; allowed: label, x")
    ]


def test_an_error_level_among_them_makes_the_violation_an_error() -> None:
    report = _apply(_allowed("x", id="b", level="WARNING"), _allowed("label", id="a", level="CRITICAL"))
    assert [(v.constraint_id, v.level) for v in report.errors] == [("a, b", "ERROR")] and report.warnings == []


def test_the_first_refusing_constraint_message_is_kept() -> None:
    report = _apply(_allowed("label", id="a", message="Use a NIST name."), _allowed("label", id="b"))
    assert [v.message for v in report.errors] == ["Use a NIST name."]


def test_one_constraint_from_two_contexts_is_named_once() -> None:
    assert [v.constraint_id for v in _apply(_allowed("label", id="a"), contexts=2).errors] == ["a"]


def test_allow_other_allows_every_value() -> None:
    assert _found(_apply(_allowed("label", id="a"), _allowed("x", id="b", allow_other=True))) == []


def test_allowed_values_of_numbers_fields_and_values() -> None:
    numbers = _constraint("allowed-values", "port-range/@start", values=(AllowedValue("443", ""),))
    field = _constraint("allowed-values", "title", values=(AllowedValue("Other", ""),))
    not_a_node = _constraint("allowed-values", "string(@id)", values=(AllowedValue("x", ""),))
    assert _found(_apply(numbers, field, not_a_node)) == [
        (field.label, "ERROR", ("control", "title"), "'Access control' is not an allowed value here; allowed: Other")
    ]


def test_a_value_breaking_a_pattern_and_a_type_is_two_violations() -> None:
    both = _constraint("matches", "prop/@value", regex="[A-Z]+-[0-9]+", datatype="integer")
    assert [(v.path, v.message) for v in _apply(both).errors] == [
        (("control", "props", 0, "value"), "'AC-1' is not a valid integer"),
        (("control", "props", 1, "value"), "'withdrawn' does not match the pattern [A-Z]+-[0-9]+"),
        (("control", "props", 1, "value"), "'withdrawn' is not a valid integer"),
    ]


def test_keys_without_any_value_are_never_duplicates() -> None:
    unique = _constraint("is-unique", "prop", key_fields=(KeyField("@missing"),))
    assert _found(_apply(unique)) == []


def test_a_key_pattern_takes_its_first_group_or_the_whole_value() -> None:
    clash = _constraint("is-unique", "prop", key_fields=(KeyField("@name", "^[a-z]*(a)"),))
    assert [(v.path, v.message) for v in _apply(clash).errors] == [  # 'label' and 'status' both give 'a'
        (("control", "props", 1, "name"), "key 'a' must be unique; it first appears at $.control.props[0].name")
    ]
    no_group = _constraint("is-unique", "prop", key_fields=(KeyField("@name", "[a-z]"),))
    no_match = _constraint("is-unique", "prop", key_fields=(KeyField("@name", "^(x)"),))
    assert _found(_apply(no_group, no_match)) == []  # the whole values, which differ


def test_a_key_of_several_fields_is_reported_at_the_keyed_item() -> None:
    unique = _constraint("is-unique", "(prop, prop)", key_fields=(KeyField("@name"), KeyField(".")))
    assert [(v.path, v.message) for v in _apply(unique).errors] == []  # the same node twice is no duplicate
    clash = _constraint("is-unique", "prop | part", key_fields=(KeyField("@missing"), KeyField(".")))
    assert [(v.path, v.message) for v in _apply(clash).errors] == [
        (("control", "props", 1), "key ' ' must be unique; it first appears at $.control.props[0]"),
        (("control", "parts", 0), "key ' ' must be unique; it first appears at $.control.props[0]"),
    ]


def test_a_key_naming_nothing_is_checked_against_the_whole_index() -> None:
    index = _constraint("index", "prop", name="names", key_fields=(KeyField("@name"),))
    has_key = _constraint("index-has-key", "part", name="names", key_fields=(KeyField("@id", "^ac-1_(.*)$"),))
    no_key = _constraint("index-has-key", "part", name="names", key_fields=(KeyField("@missing"),))
    assert _found(_apply(has_key, no_key, index)) == [  # the index may come after: keys are checked last
        (
            has_key.label,
            "ERROR",
            ("control", "parts", 0, "id"),
            "'smt' names nothing in index 'names' (no such key here)",
        )
    ]
    found = _constraint("index-has-key", "prop", name="names", key_fields=(KeyField("@name"),))
    assert _found(_apply(index, found)) == []


def test_an_expectation_without_a_test_always_holds_and_a_failed_one_says_what() -> None:
    assert _found(_apply(_constraint("expect", "prop", test=None))) == []
    report = _apply(_constraint("expect", "prop", test="@name = 'label'"))
    assert [(v.path, v.message) for v in report.errors] == [
        (("control", "props", 1), "expected @name = 'label' to hold here")
    ]


def test_a_constrained_flag_is_checked_as_its_own_context() -> None:
    document = fresh("profile")
    document["profile"]["imports"][0]["include-controls"][0]["with-child-controls"] = "maybe"
    assert _only(_check(document)) == Violation(
        "oscal-with-child-controls-values",
        "ERROR",
        ("profile", "imports", 0, "include-controls", 0, "with-child-controls"),
        "'maybe' is not an allowed value here; allowed: no, yes",
    )


def test_every_node_target_refused_is_its_own_violation_with_its_empty_value() -> None:
    nodes = _constraint("allowed-values", "('x', prop)", values=(AllowedValue("x", ""),))
    assert [(v.path, v.message) for v in _apply(nodes).errors] == [  # the 'x' value is no node: passed over
        (("control", "props", 0), "'' is not an allowed value here; allowed: x"),
        (("control", "props", 1), "'' is not an allowed value here; allowed: x"),
    ]


def test_a_field_given_as_an_object_is_reported_at_its_value() -> None:
    env, control = _view()
    hash_node = Node("hash", control, ("hashes", 0), "", 7)
    hash_node.text, hash_node.value_key = "abc", "value"
    control.add(hash_node)
    report = Report(max_kept=10)
    run = _Run(load_metaschema("1.2.3"), env, report, time.monotonic() + 60)
    constraint = _constraint("matches", "hash", datatype="integer")
    run.apply(_Step(constraint, _HANDLERS["matches"], compile_metapath("hash"), None), [control])
    assert [(v.path, v.message) for v in report.errors] == [
        (("control", "hashes", 0, "value"), "'abc' is not a valid integer")
    ]


def test_targets_tests_and_keys_may_start_from_the_root() -> None:
    found = _found(
        _apply(
            _constraint("matches", "//prop/@value", regex="[A-Z]+-1", id="m"),
            _constraint("is-unique", "//prop", key_fields=(KeyField("count(//prop)"),), id="u"),
            _constraint("expect", "//prop", test="@name = 'label'", id="e1"),
            _constraint("expect", "prop", test="count(//prop) = 3", id="e2"),
        )
    )
    assert [(i, path) for i, _, path, _ in found] == [
        ("m", ("control", "props", 1, "value")),
        ("u", ("control", "props", 1)),
        ("e1", ("control", "props", 1)),
        ("e2", ("control", "props", 0)),
        ("e2", ("control", "props", 1)),
    ]


def test_items_without_a_key_are_passed_over_not_the_end_of_the_check() -> None:
    prefix = (KeyField("@id", "^(ac)"),)  # the control and its part both give 'ac'; the props no key
    unique = _constraint("is-unique", ". | prop | part", key_fields=prefix, id="u")
    index = _constraint("index", ". | prop | part", key_fields=prefix, name="ids", id="i")
    assert [(i, path, message) for i, _, path, message in _found(_apply(unique, index))] == [
        ("u", ("control", "parts", 0, "id"), "key 'ac' must be unique; it first appears at $.control.id"),
        (
            "i",
            ("control", "parts", 0, "id"),
            "key 'ac' must be unique in index 'ids'; it first appears at $.control.id",
        ),
    ]


def test_a_key_naming_an_index_that_does_not_exist_names_nothing() -> None:
    has_key = _constraint("index-has-key", "part", name="nope", key_fields=(KeyField("@id"), KeyField(".")))
    assert [v.message for v in _apply(has_key).errors] == [
        "'ac-1_smt ' names nothing in index 'nope' (no such key here)"  # two key fields, the second empty
    ]


def test_unnamed_indexes_are_one_index() -> None:
    index = _constraint("index", "prop", name=None, key_fields=(KeyField("@name"),))
    has_key = _constraint("index-has-key", "prop", name=None, key_fields=(KeyField("@name"),))
    assert _found(_apply(index, has_key)) == []


def test_only_an_index_reaching_into_another_document_is_partial() -> None:
    skip = _constraint("expect", ".", test="empty(doc(@id))", id="doc")  # names a document: skipped
    local = _constraint("index", "prop", name="local", key_fields=(KeyField("@name"),))
    remote = _constraint("index", "prop | doc(@id)/prop", name="remote", key_fields=(KeyField("@name"),))
    keys = [
        _constraint("index-has-key", "part", name=name, key_fields=(KeyField("@id"),), id=f"has-{name}")
        for name in ("local", "remote")
    ]
    assert [v.constraint_id for v in _apply(skip, local, remote, *keys).errors] == ["has-local"]


@pytest.mark.parametrize(("count", "suffix"), [(12, ""), (13, " and 1 more"), (14, " and 2 more")])
def test_allowed_values_past_twelve_are_counted_not_listed(count: int, suffix: str) -> None:
    names = [f"v{n:02}" for n in range(count)]
    message = _apply(_allowed(*names)).errors[0].message
    assert message == f"'label' is not an allowed value here; allowed: {', '.join(names[:12])}{suffix}"


def test_a_node_without_text_is_allowed_by_an_empty_allowed_value() -> None:
    assert _found(_apply(_constraint("allowed-values", "prop", values=(AllowedValue("", ""),)))) == []
