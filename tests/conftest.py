"""Shared fixtures. Async tests use anyio's pytest plugin on the asyncio backend.

Two run-wide rules live here too: the random order's seed is repeated at the end of every run (so
a failure can be replayed with ``--randomly-seed=N``), and under ``CI`` a skipped test is a failure:
CI installs everything the suite needs, so a skip there can only hide a missing dependency.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pytest
from _pytest.terminal import TerminalReporter

from tests.redis_server import RedisServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server on a free loopback port, stopped after the test."""
    with RedisServer() as server:
        yield server


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def fail_skip_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI ({reason}); CI installs every test dependency, so this must run"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    fail_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, None, None]:
    outcome = yield
    fail_skip_in_ci(outcome.get_result())


def pytest_terminal_summary(terminalreporter: TerminalReporter, config: pytest.Config) -> None:
    seed = getattr(config.option, "randomly_seed", None)
    if seed is not None and getattr(config.option, "randomly_reorganize", True):
        terminalreporter.write_line(f"random test order: replay it with --randomly-seed={seed}")
