"""Expensive pieces are built once, whoever asks first: the background warm-up (started after start-up)
or the first call."""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from starlette.testclient import TestClient

from oscal_mcp.config import load_settings
from oscal_mcp.http_app import build_http_app
from oscal_mcp.oscal import schemas, store, warmup
from oscal_mcp.oscal.lazy import Once
from oscal_mcp.oscal.models import MODELS, trestle_adapter
from oscal_mcp.oscal.unions import best_branch
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.families import EXERCISED, register_tools, start_after_handshake


def test_warm_up_steps_compile_every_releases_schemas_and_every_model_validator() -> None:
    warmup.nist_schemas()
    warmup.trestle_models()
    misses = schemas.validator.cache_info().misses
    for version in schemas.bundled_versions():
        for model in MODELS:
            schemas.validator(model.name, version)
            trestle_adapter(model.name)
    assert schemas.validator.cache_info().misses == misses  # nothing left to compile


def test_a_warm_up_runs_its_steps_in_order_and_a_failed_step_does_not_stop_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise OSError("disk hiccup")

    steps = [("first", lambda: ran.append("first")), ("broken", broken), ("last", lambda: ran.append("last"))]
    took = warmup.WarmUp(steps).run()
    assert ran == ["first", "last"] and list(took) == ["first", "last"]
    assert "warm-up step 'broken' failed" in caplog.text


def test_after_its_steps_the_background_warm_up_freezes_what_is_alive_for_the_collector() -> None:
    built: list[object] = []
    gc.unfreeze()
    try:
        warmup.WarmUp([("cache", lambda: built.append({"long": ["lived"]}))]).run_and_freeze()
        assert built and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


class RecordingWarmUp(warmup.WarmUp):
    def __init__(self) -> None:
        super().__init__(())
        self.starts = 0

    def start(self) -> threading.Thread | None:
        self.starts += 1
        return None


@pytest.mark.anyio
async def test_over_a_session_the_warm_up_starts_once_the_handshake_is_answered_and_only_once() -> None:
    server: MCPServer[Any] = MCPServer("warm")
    server.add_tool(lambda: "pong", name="ping_tool")
    recording = RecordingWarmUp()
    server.middleware.append(start_after_handshake(recording, server))
    assert recording.starts == 0  # registering tools starts nothing
    async with Client(server) as client:
        assert recording.starts == 1  # server/discover has been answered
        await client.list_tools()
        await client.call_tool("ping_tool", {})
    assert recording.starts == 1


@pytest.mark.anyio
async def test_the_first_request_after_the_handshake_starts_the_warm_up_not_the_initialized_notification() -> None:
    server: MCPServer[Any] = MCPServer("warm")
    recording = RecordingWarmUp()
    middleware = start_after_handshake(recording, server)

    async def handled(ctx: Any) -> None:
        return None

    await middleware(SimpleNamespace(method="initialize", request_id=1), handled)  # type: ignore[arg-type]
    await middleware(SimpleNamespace(method="notifications/initialized", request_id=None), handled)  # type: ignore[arg-type]
    assert recording.starts == 0  # the client's tools/list is still to be answered
    await middleware(SimpleNamespace(method="tools/list", request_id=2), handled)  # type: ignore[arg-type]
    await middleware(SimpleNamespace(method="tools/call", request_id=3), handled)  # type: ignore[arg-type]
    assert recording.starts == 1


def test_the_warm_up_runs_the_cheap_tools_once_each_through_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    server: MCPServer[Any] = MCPServer("warm")
    called: list[str] = []

    async def call_tool(name: str, arguments: dict[str, Any]) -> None:
        called.append(name)

    monkeypatch.setattr(server, "call_tool", call_tool)
    warm_up = register_tools(server, ToolContext.from_settings(load_settings({})))
    steps = dict(warm_up.steps)
    steps["cheap tool calls"]()
    assert called == [name for name, _ in EXERCISED]


def test_the_http_server_starts_the_warm_up_once_it_is_listening(monkeypatch: pytest.MonkeyPatch) -> None:
    starts: list[warmup.WarmUp] = []
    monkeypatch.setattr(warmup.WarmUp, "start", lambda self: starts.append(self))
    settings = load_settings({"OSCAL_MCP_TRANSPORT": "streamable-http"})
    app = build_http_app(settings)
    assert starts == []
    with TestClient(app):
        assert len(starts) == 1
    assert len(starts) == 1


@pytest.mark.anyio
async def test_the_servers_warm_up_builds_the_store_and_the_component_index_the_tools_then_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    builds: list[object] = []
    real_build = store.build_store

    def counting_build(directory: Path | None, limits: Any, definitions: Path | None) -> store.DocumentStore:
        builds.append(directory)
        return real_build(directory, limits, definitions)

    monkeypatch.setattr(store, "build_store", counting_build)
    context = ToolContext.from_settings(load_settings({"OSCAL_FILE_ROOTS": str(tmp_path)}))
    server: MCPServer[Any] = MCPServer("warm")
    took = register_tools(server, context).run()
    assert {"document store", "component index", "component summaries", "trestle models", "NIST schemas"} <= set(took)
    assert builds == [None] and context.store.built and context.components.built
    async with Client(server) as client:
        listed = await client.call_tool("list_oscal_documents", {})
        components = await client.call_tool("list_components", {})
    assert not listed.is_error and not components.is_error
    assert builds == [None]  # the tools used what the warm-up built


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


def test_the_warm_up_runs_every_step_of_a_real_server_including_the_store_tools_first_calls(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from oscal_mcp.server import server_and_warm_up

    _, warm_up = server_and_warm_up(load_settings({}))
    took = warm_up.run()
    assert "failed" not in caplog.text
    assert list(took) == [name for name, _ in warm_up.steps]
    assert "store tool calls" in took
