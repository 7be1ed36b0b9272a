"""XPath's rules for sequences: effective boolean value, each node once, document order."""

from __future__ import annotations

import pytest

from oscal_mcp.oscal.metaschema.metapath_values import distinct, document_order, truth
from oscal_mcp.oscal.metaschema.nodes import FlagRef, Item, Node


def _nodes() -> tuple[Node, Node, Node]:
    top = Node("", None, (), "", 0)
    first = Node("a", top, ("a",), "", 1)
    second = Node("b", top, ("b",), "", 2)
    top.add(first)
    top.add(second)
    return top, first, second


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], False),
        ([True], True),
        ([False], False),
        (["x"], True),
        ([""], False),
        ([0], False),
        ([0.0], False),
        ([2], True),
        ([-1.5], True),
        (["", "x"], False),  # the first item decides
    ],
)
def test_effective_boolean_value_of_values(items: list[Item], expected: bool) -> None:
    assert truth(items) is expected


def test_a_node_or_a_flag_is_true_whatever_its_value() -> None:
    _, first, _ = _nodes()
    assert truth([first]) is True
    assert truth([FlagRef(first, "missing")]) is True


def test_distinct_keeps_each_node_and_flag_once_in_first_order() -> None:
    _, first, second = _nodes()
    flag, same_flag = FlagRef(second, "id"), FlagRef(second, "id")
    assert distinct([second, first, second, flag, same_flag, FlagRef(first, "id")]) == [
        second,
        first,
        flag,
        FlagRef(first, "id"),
    ]
    assert distinct([1, True, "1", 1]) == [1, True, "1"]  # values of different types stay apart
    assert distinct([first]) == [first]
    assert distinct([first, first]) == [first]


def test_document_order_puts_a_node_before_its_flags_and_drops_repeats() -> None:
    top, first, second = _nodes()
    flag = FlagRef(first, "id")
    assert document_order([second, flag, first, top, second]) == [top, first, flag, second]


def test_values_keep_the_order_they_came_in() -> None:
    _, first, _ = _nodes()
    assert document_order(["b", first, "a"]) == ["b", first, "a"]
