"""Expensive pieces are built once, whoever asks first: a background warm-up or the first call."""

from __future__ import annotations

import threading

import pytest

from oscal_mcp.oscal import schemas, warmup
from oscal_mcp.oscal.lazy import Once
from oscal_mcp.oscal.models import MODELS, trestle_adapter
from oscal_mcp.oscal.unions import best_branch


def test_warm_up_compiles_every_schema_of_every_release_and_every_model_validator() -> None:
    built: list[str] = []
    warmup.warm_up(lambda: built.append("index"))
    misses = schemas.validator.cache_info().misses
    for version in schemas.bundled_versions():
        for model in MODELS:
            schemas.validator(model.name, version)
            trestle_adapter(model.name)
    assert schemas.validator.cache_info().misses == misses  # nothing left to compile
    assert schemas.validator.cache_info().currsize >= len(MODELS) * len(schemas.bundled_versions())
    assert built == ["index"]


def test_once_builds_one_value_for_concurrent_callers() -> None:
    release = threading.Event()
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        release.wait(5)
        return object()

    once: Once[object] = Once(build)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(once.get())) for _ in range(5)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1 and len(results) == 5 and all(r is results[0] for r in results)
    assert once.built


def test_once_tries_again_after_a_failed_build() -> None:
    attempts: list[int] = []

    def build() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("disk hiccup")
        return 42

    once = Once(build)
    with pytest.raises(OSError):
        once.get()
    assert not once.built
    assert once.get() == 42 and len(attempts) == 2


def test_the_branch_reaching_deepest_wins_then_the_one_not_only_of_another_type() -> None:
    def depth(error: tuple[int, str]) -> int:
        return error[0]

    def wrong_type(error: tuple[int, str]) -> bool:
        return error[1] == "type"

    deep = [(4, "enum")]
    shallow = [(2, "required"), (2, "required")]
    assert best_branch([shallow, deep], depth, wrong_type) == deep
    typed, min_items = [(2, "type")], [(2, "minItems")]
    assert best_branch([typed, min_items], depth, wrong_type) == min_items
    assert best_branch([[(3, "x"), (3, "y")], [(3, "z")]], depth, wrong_type) == [(3, "z")]
    assert best_branch([[], []], depth, wrong_type) == []
