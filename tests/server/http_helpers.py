"""Serve the app `build_http_app` assembles in-process, with its lifespan, for the server tests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from starlette.testclient import TestClient

from oscal_mcp.config import load_settings
from oscal_mcp.http_app import build_http_app

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
RESOURCE = "https://oscal.example.com/mcp"
ISSUER = "https://idp.example.com"
READER_KEY = "reader-key-0123456789"
GUEST_KEY = "guest-key-0123456789"
METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"


def keys_file(directory: Path) -> Path:
    def entry(client_id: str, key: str, scopes: list[str]) -> dict[str, object]:
        return {"client_id": client_id, "scopes": scopes, "key_sha256": hashlib.sha256(key.encode()).hexdigest()}

    path = directory / "keys.json"
    path.write_text(json.dumps({"keys": [entry("reader", READER_KEY, ["oscal:read"]), entry("guest", GUEST_KEY, [])]}))
    return path


def auth_values(directory: Path) -> dict[str, str]:
    return {
        "OSCAL_AUTH_VERIFIER": "static",
        "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys_file(directory)),
        "OSCAL_AUTH_ISSUER_URL": ISSUER,
        "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE,
        "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
    }


@contextmanager
def serving(values: Mapping[str, str], base_url: str = "http://127.0.0.1:8000") -> Iterator[TestClient]:
    settings = load_settings({"OSCAL_MCP_TRANSPORT": "streamable-http", **values})
    with TestClient(build_http_app(settings), base_url=base_url) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {**MCP_HEADERS, "authorization": f"Bearer {key}"}
