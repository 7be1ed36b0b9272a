"""The tool tests' in-memory client fixture, shared with tests/tools; and cold engine caches under mutmut."""

from __future__ import annotations

import os
import sys

import pytest

from tests.tools.conftest import connect

__all__ = ["connect"]

_ENGINE = "oscal_mcp.oscal.metaschema."


_cleared_for: list[str] = []  # the mutant the caches were last emptied for


@pytest.fixture(autouse=True)
def _engine_caches_start_cold_under_mutmut() -> None:
    """mutmut maps each test to the functions it calls, then forks its process for each mutant: a
    function whose result the engine caches (the parsed modules, compiled Metapath, guards, plans)
    would be mapped to the first test that filled the cache only, and a mutant of it would never
    run. So while mutmut maps the tests each test starts with those caches empty, and with a mutant
    active they are emptied once, before its first test (about 0.05 s to fill again). Outside
    mutmut (no MUTANT_UNDER_TEST) nothing changes."""
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if mutant in ("", "fail") or (mutant != "stats" and _cleared_for == [mutant]):
        return
    _cleared_for[:] = [mutant]
    for name, module in list(sys.modules.items()):
        if name.startswith(_ENGINE):
            for value in vars(module).values():
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()
