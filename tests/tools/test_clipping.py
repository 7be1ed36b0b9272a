"""One way to bound OSCAL objects for results: the store's objects and the component matches alike."""

from __future__ import annotations

import json

from oscal_mcp.oscal.clipping import MAX_NOTES, WHOLE_OBJECT, Limits, bound, bound_to_budget


def test_cuts_are_named_by_the_same_json_paths_as_validation_errors() -> None:
    bounded = bound({"odd key": "x" * 30, "links": list(range(8))}, Limits(max_text=10, max_items=5))
    assert bounded.notes == ["$['odd key']: 30 characters, clipped to 10", "$.links: 8 items, the first 5 shown"]
    assert bounded.value == {"odd key": "x" * 9 + "\u2026", "links": [0, 1, 2, 3, 4]}


def test_an_object_over_its_budget_is_bound_ever_tighter_until_it_fits() -> None:
    big = {"description": "d" * 3000, "props": [{"value": "v" * 100} for _ in range(150)]}
    assert bound_to_budget(big, 1_000_000).value == big  # within the whole-object limits: unchanged
    tight = bound_to_budget(big, 5_000)
    assert len(json.dumps(tight.value)) <= 5_000
    assert any(note.startswith("$.props: 150 items") for note in tight.notes)
    assert WHOLE_OBJECT.max_items > 150


def test_too_many_cuts_are_counted_not_listed() -> None:
    bounded = bound({f"k{i}": "x" * 20 for i in range(MAX_NOTES + 5)}, Limits(max_text=10))
    assert len(bounded.notes) == MAX_NOTES and bounded.all_notes()[-1] == "and 5 more cuts"
