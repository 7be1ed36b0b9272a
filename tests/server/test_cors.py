"""CORS for browser clients (OSCAL_MCP_CORS_ORIGINS): preflights without auth, every answer to an
allowed origin labelled and its challenge and session headers exposed, other origins left bare."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from oscal_mcp.config import ConfigError, load_settings
from oscal_mcp.cors import parse_cors_origins
from tests.server.http_helpers import (
    GUEST_KEY,
    INITIALIZE,
    MCP_HEADERS,
    METADATA_PATH,
    READER_KEY,
    auth_values,
    bearer,
    serving,
)

APP = "https://app.example"
EVIL = "https://evil.example"
REQUESTED_HEADERS = "authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id, dpop"


def preflight(client: TestClient, path: str, origin: str, **extra: str) -> httpx.Response:
    headers = {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": REQUESTED_HEADERS,
        **extra,
    }
    return client.options(path, headers=headers)


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def assert_labelled(response: httpx.Response, origin: str = APP) -> None:
    assert response.headers["access-control-allow-origin"] == origin
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"www-authenticate", "mcp-session-id", "mcp-protocol-version", "dpop-nonce"} <= exposed


@pytest.mark.parametrize("path", ["/mcp", METADATA_PATH])
def test_preflight_is_answered_without_authentication(tmp_path: Path, path: str) -> None:
    with serving({**auth_values(tmp_path), "OSCAL_MCP_CORS_ORIGINS": APP}) as client:
        response = preflight(client, path, APP)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP
    assert "Origin" in response.headers["vary"]
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert methods == {"GET", "POST", "DELETE", "OPTIONS"}
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {h.strip() for h in REQUESTED_HEADERS.split(",")} <= allowed
    assert "www-authenticate" not in response.headers
    assert "access-control-allow-private-network" not in response.headers


def test_every_answer_to_an_allowed_origin_is_labelled(tmp_path: Path) -> None:
    with serving({**auth_values(tmp_path), "OSCAL_MCP_CORS_ORIGINS": f"{APP},http://localhost:*"}) as client:
        page = {**MCP_HEADERS, "origin": APP}
        ok = client.post("/mcp", json=INITIALIZE, headers={**bearer(READER_KEY), "origin": APP})
        unauthenticated = client.post("/mcp", json=INITIALIZE, headers=page)
        forbidden = client.post("/mcp", json=INITIALIZE, headers={**bearer(GUEST_KEY), "origin": APP})
        malformed = client.post("/mcp?access_token=x", json=INITIALIZE, headers=page)
        missing = client.get("/nowhere", headers={"origin": APP})
        metadata = client.get(METADATA_PATH, headers={"origin": APP})
        local = client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "origin": "http://localhost:5173"})
    statuses = [r.status_code for r in (ok, unauthenticated, forbidden, malformed, missing, metadata)]
    assert statuses == [200, 401, 403, 400, 404, 200]
    for response in (ok, unauthenticated, forbidden, malformed, missing, metadata):
        assert_labelled(response)
    assert "mcp-session-id" in ok.headers
    assert_labelled(local, "http://localhost:5173")


def test_other_origins_get_no_cors_headers(tmp_path: Path) -> None:
    values = {**auth_values(tmp_path), "OSCAL_MCP_CORS_ORIGINS": APP}
    with serving(values) as client:  # loopback bind: the rebinding guard refuses the origin outright
        refused = client.post("/mcp", json=INITIALIZE, headers={**bearer(READER_KEY), "origin": EVIL})
        refused_preflight = preflight(client, "/mcp", EVIL)
    assert refused.status_code == 403 and cors_headers(refused) == {}
    assert cors_headers(refused_preflight) == {}
    exposed = {**values, "OSCAL_MCP_HOST": "0.0.0.0"}
    with serving(exposed) as client:  # no rebinding guard: the request reaches the app, unlabelled
        answered = client.post("/mcp", json=INITIALIZE, headers={**bearer(READER_KEY), "origin": EVIL})
        challenged = client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "origin": EVIL})
        preflighted = preflight(client, "/mcp", EVIL)
    assert (answered.status_code, cors_headers(answered)) == (200, {})
    assert (challenged.status_code, cors_headers(challenged)) == (401, {})
    assert (preflighted.status_code, cors_headers(preflighted)) == (401, {})


def test_any_origin_with_a_star(tmp_path: Path) -> None:
    with serving({**auth_values(tmp_path), "OSCAL_MCP_CORS_ORIGINS": "*"}) as client:
        answered = client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "origin": EVIL})
        preflighted = preflight(client, "/mcp", EVIL, **{"access-control-request-private-network": "true"})
    assert answered.status_code == 401
    assert_labelled(answered, "*")
    assert preflighted.status_code == 204 and preflighted.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-private-network" not in preflighted.headers  # never granted through "*"


def test_private_network_access_is_granted_to_listed_origins(tmp_path: Path) -> None:
    with serving({**auth_values(tmp_path), "OSCAL_MCP_CORS_ORIGINS": APP}) as client:
        response = preflight(client, "/mcp", APP, **{"access-control-request-private-network": "true"})
    assert response.headers["access-control-allow-private-network"] == "true"


def test_cors_is_off_by_default(tmp_path: Path) -> None:
    with serving(auth_values(tmp_path)) as client:
        response = preflight(client, "/mcp", "http://localhost:5173")
    assert response.status_code == 401  # a preflight is just an unauthenticated request then
    assert cors_headers(response) == {}


@pytest.mark.parametrize("value", ["*,https://app.example", "app.example", "https://app.example/path"])
def test_bad_cors_origins_name_the_setting(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^OSCAL_MCP_CORS_ORIGINS: "):
        load_settings({"OSCAL_MCP_CORS_ORIGINS": value})


def test_cors_origins_parse() -> None:
    assert parse_cors_origins(" * ") == ("*",)
    assert parse_cors_origins("https://A.example, http://localhost:*") == ("https://a.example", "http://localhost:*")
    assert load_settings({}).cors_origins == ()
