"""Health probes: liveness and readiness answered whatever the Host, with status words only, while
the MCP path keeps refusing a Host the DNS-rebinding guard does not know."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from oscal_mcp import health
from oscal_mcp.config import ConfigError, load_settings
from oscal_mcp.health import Check, Probes
from tests.server.http_helpers import INITIALIZE, READER_KEY, auth_values, bearer, serving

POD_HOST = {"host": "10.42.0.17:8000"}  # what a kubelet sends: the pod address


def test_a_pod_address_host_gets_200_from_healthz_while_the_mcp_path_refuses_it(tmp_path: Path) -> None:
    with serving(auth_values(tmp_path)) as client:
        live = client.get("/healthz", headers=POD_HOST)
        assert live.status_code == 200 and live.json() == {"status": "alive"}
        assert live.headers["cache-control"] == "no-store"
        refused = client.post("/mcp", json=INITIALIZE, headers={**bearer(READER_KEY), **POD_HOST})
        assert refused.status_code == 421


def test_readyz_names_each_check_with_a_status_word(tmp_path: Path) -> None:
    with serving(auth_values(tmp_path)) as client:
        ready = client.get("/readyz", headers=POD_HOST)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"content": "ok", "verifier": "ok"}}


def test_probes_need_no_token_and_answer_head_but_not_post(tmp_path: Path) -> None:
    with serving(auth_values(tmp_path)) as client:
        assert client.head("/healthz").status_code == 200
        assert client.head("/healthz").content == b""
        posted = client.post("/readyz")
        assert posted.status_code == 405 and posted.headers["allow"] == "GET, HEAD"


def test_readyz_without_auth_checks_the_content_only() -> None:
    with serving({}) as client:
        assert client.get("/readyz").json() == {"status": "ready", "checks": {"content": "ok"}}


def test_probe_paths_are_configurable(tmp_path: Path) -> None:
    values = {**auth_values(tmp_path), "OSCAL_MCP_HEALTH_PATH": "/live", "OSCAL_MCP_READY_PATH": "/ops/ready"}
    with serving(values) as client:
        assert client.get("/live", headers=POD_HOST).status_code == 200
        assert client.get("/ops/ready", headers=POD_HOST).status_code == 200
        assert client.get("/healthz", headers=POD_HOST).status_code == 421  # no longer a probe path


@pytest.mark.parametrize(
    ("name", "value"),
    [("OSCAL_MCP_HEALTH_PATH", "/mcp"), ("OSCAL_MCP_READY_PATH", "/healthz"), ("OSCAL_MCP_HEALTH_PATH", "healthz"),
     ("OSCAL_MCP_READY_PATH", "/.well-known/ready"), ("OSCAL_MCP_HEALTH_PATH", "/")],
)  # fmt: skip
def test_a_probe_path_that_collides_or_is_not_absolute_is_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match="OSCAL_MCP_"):
        load_settings({"OSCAL_MCP_TRANSPORT": "streamable-http", name: value})


def probes_app(checks: dict[str, Check]) -> TestClient:
    app = Starlette(middleware=[Middleware(Probes, liveness="/healthz", readiness="/readyz", checks=checks)])
    return TestClient(app)


async def hangs() -> str | None:
    await anyio.sleep_forever()
    return None


async def raises() -> str | None:
    raise RuntimeError("redis://user:password@host")


async def passes() -> str | None:
    return None


def test_a_hanging_or_raising_check_is_unready_without_holding_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 0.2)
    with probes_app({"slow": hangs, "broken": raises, "fine": passes}) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unready", "checks": {"slow": "timeout", "broken": "error", "fine": "ok"}}
    assert "password" not in answer.text
