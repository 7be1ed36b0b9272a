"""OSCAL_AUTH_SCOPE_IMPLIES: a broader scope satisfies a narrower one; cycles stop start-up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oscal_mcp_auth import AuthConfig, ConfigurationError
from oscal_mcp_auth.scopes import effective_scopes, parse_implications

RULES = "oscal:admin>oscal:write, oscal:write>oscal:read"


def test_implication_is_transitive() -> None:
    implies = parse_implications(RULES)
    assert implies["oscal:admin"] == {"oscal:write", "oscal:read"}
    assert effective_scopes(["oscal:admin", "profile"], implies) == [
        "oscal:admin",
        "profile",
        "oscal:read",
        "oscal:write",
    ]
    assert effective_scopes(["oscal:read"], implies) == ["oscal:read"]  # never upwards


def test_empty_rules_are_skipped_wherever_they_are() -> None:
    assert parse_implications(",a>b, ,,b>c,") == {"a": {"b", "c"}, "b": {"c"}}


@pytest.mark.parametrize("rules", ["a>b,b>a", "a>b,b>c,c>a", "a>a"])
def test_cycles_are_a_start_up_error(rules: str) -> None:
    with pytest.raises(ConfigurationError, match="OSCAL_AUTH_SCOPE_IMPLIES: the rules form a cycle"):
        AuthConfig.from_mapping({"OSCAL_AUTH_SCOPE_IMPLIES": rules})


@pytest.mark.parametrize("rules", ["a", "a>", ">b", "a>b>c", "a b>c"])
def test_malformed_rules_are_refused(rules: str) -> None:
    with pytest.raises(ConfigurationError, match="is not 'broader>narrower'"):
        parse_implications(rules)


SCOPES = [f"oscal:s{n}" for n in range(7)]
# An edge from an earlier to a later scope of a random order: the rules can never form a cycle.
FORWARD = st.integers(0, len(SCOPES) - 2).flatmap(lambda i: st.tuples(st.just(i), st.integers(i + 1, len(SCOPES) - 1)))


@st.composite
def hierarchies(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Valid rules (broader, narrower), generated acyclic, often with diamonds and long chains."""
    order = draw(st.permutations(SCOPES))
    edges = draw(st.lists(FORWARD, min_size=1, max_size=12, unique=True))
    return draw(st.permutations([(order[i], order[j]) for i, j in edges]))


def reachable(rules: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Every scope each broader scope leads to: a fixpoint, computed apart from the code under test."""
    closure: dict[str, set[str]] = {broader: set() for broader, _ in rules}
    changed = True
    while changed:
        changed = False
        for broader, narrower in rules:
            grown = closure[broader] | {narrower} | closure.get(narrower, set())
            changed |= grown != closure[broader]
            closure[broader] = grown
    return closure


def as_setting(rules: list[tuple[str, str]]) -> str:
    return ",".join(f"{broader}>{narrower}" for broader, narrower in rules)


@given(hierarchies())
def test_the_closure_of_a_valid_hierarchy_is_exactly_what_it_reaches(rules: list[tuple[str, str]]) -> None:
    assert parse_implications(as_setting(rules)) == reachable(rules)


@given(hierarchies(), st.data())
def test_a_rule_back_up_a_hierarchy_is_reported_as_a_cycle(rules: list[tuple[str, str]], data: st.DataObject) -> None:
    top = data.draw(st.sampled_from(sorted(reachable(rules))))
    below = data.draw(st.sampled_from(sorted(reachable(rules)[top] | {top})))
    back = data.draw(st.permutations([*rules, (below, top)]))
    with pytest.raises(ConfigurationError, match="the rules form a cycle"):
        parse_implications(as_setting(back))


@given(hierarchies(), st.lists(st.sampled_from([*SCOPES, "profile"]), unique=True))
def test_effective_scopes_add_exactly_the_implied_ones_after_the_granted(
    rules: list[tuple[str, str]], granted: list[str]
) -> None:
    closure = reachable(rules)
    effective = effective_scopes(granted, parse_implications(as_setting(rules)))
    assert effective[: len(granted)] == granted
    assert set(effective) == set(granted).union(*(closure.get(scope, set()) for scope in granted))
    assert len(effective) == len(set(effective))
