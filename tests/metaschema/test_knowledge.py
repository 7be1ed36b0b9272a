"""The engine's knowledge queries on the bundled 1.2.3 modules: places, allowed values, constraints,
references and definitions, asked directly (the tool tests ask them through MCP)."""

from __future__ import annotations

import pytest

from oscal_mcp.oscal.metaschema import knowledge
from oscal_mcp.oscal.metaschema.beyond import COMPONENT_RULE
from oscal_mcp.oscal.metaschema.model import UNBOUNDED
from oscal_mcp.oscal.metaschema.registry import Metaschema, load_metaschema


@pytest.fixture
def metaschema() -> Metaschema:
    return load_metaschema("1.2.3")


def test_a_target_path_keeps_each_branch_of_a_union_and_drops_empty_steps() -> None:
    assert knowledge.target_paths("(.|statement)/prop/@name") == {"prop/@name", "statement/prop/@name"}
    assert knowledge.target_paths("part//part/@name") == {"part/part/@name"}
    assert knowledge.target_paths("./prop/@name") == {"prop/@name"}


def test_a_flag_definition_is_not_a_place_to_start_from(metaschema: Metaschema) -> None:
    with pytest.raises(knowledge.UnknownPlaceError):
        knowledge.definitions_for(metaschema, "control-id")


def test_an_unknown_name_suggests_names_that_exist(metaschema: Metaschema) -> None:
    with pytest.raises(knowledge.UnknownPlaceError) as raised:
        knowledge.definitions_for(metaschema, "no-such-thing")
    assert "'no-such-thing'" in str(raised.value) and "1.2.3" in str(raised.value)
    suggestion = "try a name such as 'control', 'component', 'party', 'responsible-party' or 'prop'"
    assert str(raised.value).endswith(suggestion)


def test_global_definitions_come_before_local_ones(metaschema: Metaschema) -> None:
    found = knowledge.definitions_for(metaschema, "origin")
    assert [d.key for d in found] == ["assembly:origin", "assembly:poam-item/origin"]


def test_an_empty_place_says_what_a_place_looks_like(metaschema: Metaschema) -> None:
    with pytest.raises(knowledge.UnknownPlaceError) as raised:
        knowledge.allowed_values(metaschema, " / ")
    assert str(raised.value) == "give a place such as 'control/prop/@name' or 'component/@type'"


def test_allowed_values_come_from_the_place_and_the_definitions_it_goes_through(metaschema: Metaschema) -> None:
    found = knowledge.allowed_values(metaschema, "control/prop/@name")
    assert [(r.via, r.constraint.id) for r in found] == [
        ("assembly:control", "oscal-control-prop-name"),
        ("assembly:property", "oscal-metadata-prop-name-values"),
    ]


def test_allowed_values_of_a_flag_come_from_its_flag_definition(metaschema: Metaschema) -> None:
    found = knowledge.allowed_values(metaschema, "component/@type")
    assert [(r.via, r.constraint.id) for r in found] == [
        ("flag:defined-component-type", "oscal-component-type"),
        ("flag:system-component-type", "oscal-component-type-values"),
    ]


def test_a_constraint_reaching_a_place_twice_is_listed_once(metaschema: Metaschema) -> None:
    first, second = metaschema.constraints()[:2]
    reaches = [knowledge.Reach(first, "a"), knowledge.Reach(second, "a"), knowledge.Reach(first, "b")]
    assert knowledge._unique(reaches) == reaches[:2]


def test_constraints_of_a_name_cover_every_definition_and_its_flags(metaschema: Metaschema) -> None:
    found = knowledge.constraints_of(metaschema, "component")
    owners = {c.owner for c in found}
    assert {"assembly:defined-component", "assembly:system-component"} <= owners
    assert {"flag:defined-component-type", "flag:system-component-type"} <= owners
    allowed = knowledge.constraints_of(metaschema, "component", "allowed-values")
    assert {"oscal-component-type", "oscal-component-type-values"} <= {c.id for c in allowed}
    assert {c.kind for c in allowed} == {"allowed-values"}


def _index_names(references: list[knowledge.Reference]) -> set[str | None]:
    return {r.index.name for r in references}


def test_references_to_a_party_are_its_indexes_and_the_keys_naming_them(metaschema: Metaschema) -> None:
    references, beyond = knowledge.references_to(metaschema, " party ")
    assert _index_names(references) == {"index-metadata-party-uuid", "index-metadata-party-organizations-uuid"}
    assert all(r.index.kind == "index" for r in references)
    users = [r.constraint for r in references if r.constraint is not None]
    assert users and all(u.kind == "index-has-key" for u in users)
    assert all(r.constraint is None or r.constraint.name == r.index.name for r in references)
    assert beyond == []


def test_an_index_over_a_deep_path_is_found_by_its_last_step(metaschema: Metaschema) -> None:
    references, _ = knowledge.references_to(metaschema, "by-component")
    assert _index_names(references) == {"by-component-uuid"}
    provided, _ = knowledge.references_to(metaschema, "provided")
    assert _index_names(provided) == {"by-component-export-provided-uuid"}


def test_references_to_a_component_include_this_servers_own_rule(metaschema: Metaschema) -> None:
    _, beyond = knowledge.references_to(metaschema, "component")
    assert beyond == [(COMPONENT_RULE, "by-component/@component-uuid must name a component of the SSP")]


def test_cardinality_writes_unbounded_as_a_star() -> None:
    assert knowledge.cardinality(0, UNBOUNDED) == "0..*"
    assert knowledge.cardinality(1, 3) == "1..3"


def test_definitions_named_finds_a_flag_by_name(metaschema: Metaschema) -> None:
    assert [d.key for d in knowledge.definitions_named(metaschema, " control-id ")] == ["flag:control-id"]


def test_definitions_named_falls_back_to_the_xml_name(metaschema: Metaschema) -> None:
    found = knowledge.definitions_named(metaschema, "component")
    assert [d.key for d in found] == ["assembly:defined-component", "assembly:system-component"]
