"""Which branch of a failed union to report: the one heuristic both validation levels use.

When a value matches no branch of a union (a JSON Schema ``anyOf``/``oneOf``, a pydantic
``Group1 | Group2``), every branch has its own errors, and listing them all buries the one the
author meant under the others. The branch whose errors reach deepest into the value is the one the
value most nearly matched (it got furthest before failing); on a tie, a branch that failed for more
than the value's type (an empty array against "an object, or an array of at least one") rather than
one that only wanted another type; then the one with fewer errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

E = TypeVar("E")


def best_branch(
    branches: Sequence[Sequence[E]], depth: Callable[[E], int], wrong_type: Callable[[E], bool]
) -> Sequence[E]:
    """The branch (a list of errors) the value most nearly matched; empty branches never win.

    `depth` is how deep an error lies in the value; `wrong_type` whether it only says the value has
    another type than the branch wants.
    """
    candidates = [branch for branch in branches if branch]
    if not candidates:
        return []

    def closeness(errors: Sequence[E]) -> tuple[int, bool, int]:
        return max(depth(error) for error in errors), not all(wrong_type(e) for e in errors), -len(errors)

    return max(candidates, key=closeness)
