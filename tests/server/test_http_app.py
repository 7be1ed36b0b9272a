"""The HTTP app `build_http_app` assembles, served in-process with its lifespan (session manager
running, static verifier loaded from a real keys file): auth, JSON responses, shutdown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.server.http_helpers import (
    GUEST_KEY,
    INITIALIZE,
    ISSUER,
    MCP_HEADERS,
    METADATA_PATH,
    READER_KEY,
    RESOURCE,
    auth_values,
    bearer,
    serving,
)


def test_valid_key_initializes_and_tools_see_the_caller(tmp_path: Path) -> None:
    with serving(auth_values(tmp_path)) as client:
        response = client.post("/mcp", json=INITIALIZE, headers=bearer(READER_KEY))
        assert response.status_code == 200, response.text
        session = response.headers["mcp-session-id"]
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "about", "arguments": {}}}
        headers = {**bearer(READER_KEY), "mcp-session-id": session, "mcp-protocol-version": "2025-06-18"}
        client.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
        answer = client.post("/mcp", json=call, headers=headers)
    assert answer.status_code == 200
    data = next(json.loads(line[5:]) for line in answer.text.splitlines() if line.startswith("data:"))
    assert data["result"]["structuredContent"]["caller"]["client_id"] == "reader"


def test_challenges_and_public_metadata(tmp_path: Path) -> None:
    with serving(auth_values(tmp_path)) as client:
        anonymous = client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
        guest = client.post("/mcp", json=INITIALIZE, headers=bearer(GUEST_KEY))
        unknown = client.post("/mcp", json=INITIALIZE, headers=bearer("unknown-key"))
        metadata = client.get(METADATA_PATH)
    metadata_url = f"https://oscal.example.com{METADATA_PATH}"
    assert anonymous.status_code == 401
    assert anonymous.headers.get_list("www-authenticate") == [  # no DPoP: a static key binds nothing (issue 20)
        f'Bearer resource_metadata="{metadata_url}", scope="oscal:read"',
    ]
    assert (guest.status_code, guest.json()["error"]) == (403, "insufficient_scope")
    assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_token")
    assert metadata.status_code == 200
    assert metadata.json()["resource"] == RESOURCE and metadata.json()["authorization_servers"] == [ISSUER]


@pytest.mark.parametrize(
    ("values", "content_type"), [({}, "text/event-stream"), ({"OSCAL_MCP_JSON_RESPONSE": "true"}, "application/json")]
)
def test_json_response_setting_chooses_plain_json(values: dict[str, str], content_type: str) -> None:
    with serving(values) as client:
        response = client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    if content_type == "application/json":
        assert response.json()["result"]["serverInfo"]["name"] == "oscal-mcp"


def test_verifier_is_closed_at_shutdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oscal_mcp_auth.verifier import VerificationPipeline

    closed: list[str] = []

    async def record_close(self: VerificationPipeline) -> None:
        closed.append(self.name)

    monkeypatch.setattr(VerificationPipeline, "aclose", record_close)
    with serving(auth_values(tmp_path)) as client:
        assert client.get(METADATA_PATH).status_code == 200
        assert closed == []
    assert closed == ["static"]


def test_start_up_line_names_the_exact_url_clients_must_use() -> None:
    from oscal_mcp.config import load_settings
    from oscal_mcp.http_app import serving_message

    base = {"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_MCP_PORT": "8123"}
    with_auth = load_settings({**base, "OSCAL_AUTH_ISSUER_URL": "https://idp.example.com"})
    behind_proxy = load_settings(
        {
            **base,
            "OSCAL_AUTH_ISSUER_URL": "https://idp.example.com",
            "OSCAL_AUTH_RESOURCE_SERVER_URL": "https://oscal.example.com/mcp",
        }
    )
    assert "clients must connect to exactly http://127.0.0.1:8123/mcp (" in serving_message(with_auth)
    assert "at http://127.0.0.1:8123/mcp" in serving_message(behind_proxy)
    assert "clients must connect to exactly https://oscal.example.com/mcp (" in serving_message(behind_proxy)
    assert serving_message(load_settings(base)).endswith("at http://127.0.0.1:8123/mcp (auth: off)")
