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


@pytest.mark.parametrize("rules", ["a>b,b>a", "a>b,b>c,c>a", "a>a"])
def test_cycles_are_a_start_up_error(rules: str) -> None:
    with pytest.raises(ConfigurationError, match="OSCAL_AUTH_SCOPE_IMPLIES: the rules form a cycle"):
        AuthConfig.from_mapping({"OSCAL_AUTH_SCOPE_IMPLIES": rules})


@pytest.mark.parametrize("rules", ["a", "a>", ">b", "a>b>c", "a b>c"])
def test_malformed_rules_are_refused(rules: str) -> None:
    with pytest.raises(ConfigurationError, match="is not 'broader>narrower'"):
        parse_implications(rules)


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from("abcdef")), max_size=8))
def test_closure_is_sound_or_a_cycle_is_reported(pairs: list[tuple[str, str]]) -> None:
    rules = ",".join(f"{a}>{b}" for a, b in pairs)
    try:
        implies = parse_implications(rules)
    except ConfigurationError:
        return
    for a, b in pairs:
        assert b in implies[a]
        assert implies.get(b, frozenset()) <= implies[a]
        assert a not in implies[a]
