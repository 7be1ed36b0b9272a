"""The server as an OAuth resource server with the static backend, over real HTTP."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.clients import bearer, challenge_params, mcp_client, post_initialize
from tests.e2e.mcp_server import McpServerProcess, clean_environment

pytestmark = [pytest.mark.e2e]

ISSUER = "https://idp.example.com/realms/oscal"
READER_KEY = "reader-key-0123456789"
GUEST_KEY = "guest-key-0123456789"
OLD_KEY = "old-key-0123456789"
ADMIN_KEY = "admin-key-0123456789"


def keys_file(directory: Path) -> Path:
    def entry(client_id: str, key: str, scopes: list[str], **extra: int) -> dict[str, object]:
        return {
            "client_id": client_id,
            "scopes": scopes,
            "key_sha256": hashlib.sha256(key.encode()).hexdigest(),
            **extra,
        }

    path = directory / "keys.json"
    keys = [
        entry("reader", READER_KEY, ["oscal:read", "profile"]),
        entry("guest", GUEST_KEY, ["profile"]),
        entry("admin", ADMIN_KEY, ["oscal:admin"]),
        entry("old", OLD_KEY, ["oscal:read"], expires_at=int(time.time()) - 10),
    ]
    path.write_text(json.dumps({"keys": keys}))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpServerProcess]:
    env = {
        "OSCAL_AUTH_VERIFIER": "static",
        "OSCAL_AUTH_ISSUER_URL": ISSUER,
        "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
        "OSCAL_AUTH_SCOPE_IMPLIES": "oscal:admin>oscal:write,oscal:write>oscal:read",
        "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys_file(tmp_path_factory.mktemp("static"))),
    }
    with McpServerProcess(env=env) as process:
        yield process


def test_no_token_gets_401_with_metadata_and_scope_but_no_error(server: McpServerProcess) -> None:
    response = post_initialize(server.url)
    assert response.status_code == 401
    params = challenge_params(response)
    assert params == {
        "": "Bearer",
        "resource_metadata": f"{server.base_url}/.well-known/oauth-protected-resource/mcp",
        "scope": "oscal:read",
    }


@pytest.mark.parametrize("token", ["wrong-key", OLD_KEY])
def test_unknown_or_expired_key_gets_invalid_token(server: McpServerProcess, token: str) -> None:
    response = post_initialize(server.url, bearer(token))
    assert response.status_code == 401
    assert challenge_params(response)["error"] == "invalid_token"


def test_key_without_the_scope_gets_403_naming_it(server: McpServerProcess) -> None:
    response = post_initialize(server.url, bearer(GUEST_KEY))
    assert response.status_code == 403
    params = challenge_params(response)
    assert params["error"] == "insufficient_scope"
    assert params["scope"] == "oscal:read"
    assert "oscal:read" in params["error_description"]


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        (
            [("Authorization", f"Bearer {READER_KEY}"), ("Authorization", f"Bearer {READER_KEY}")],
            400,
            "invalid_request",
        ),
        ([("Authorization", "Bearer")], 400, "invalid_request"),  # the scheme with no token is malformed
        ([("Authorization", "Bearer ,x")], 401, "invalid_token"),
        ([("Authorization", "Basic dXNlcjpwYXNz")], 401, None),
        ([("Authorization", "Bearer a b")], 401, "invalid_token"),
        ([("Authorization", "Bearer " + "A" * 20_000)], 401, "invalid_token"),
    ],
)
def test_malformed_authorization_headers(
    server: McpServerProcess, headers: list[tuple[str, str]], status: int, error: str | None
) -> None:
    response = post_initialize(server.url, headers)
    assert response.status_code == status
    assert challenge_params(response).get("error") == error


def test_token_in_query_string_is_refused(server: McpServerProcess) -> None:
    response = post_initialize(f"{server.url}?access_token={READER_KEY}")
    assert response.status_code == 400
    assert challenge_params(response)["error"] == "invalid_request"


def test_protected_resource_metadata_document(server: McpServerProcess) -> None:
    response = httpx.get(f"{server.base_url}/.well-known/oauth-protected-resource/mcp", timeout=10)
    assert response.status_code == 200
    document = response.json()
    assert document["resource"] == server.url
    assert document["authorization_servers"] == [ISSUER]
    assert document["scopes_supported"] == ["oscal:read"]
    assert document["bearer_methods_supported"] == ["header"]


def test_metadata_stays_public_and_unverified_with_a_bad_token(server: McpServerProcess) -> None:
    rejections_before = server.logs().count("token rejected")
    response = httpx.get(
        f"{server.base_url}/.well-known/oauth-protected-resource/mcp", headers=bearer("garbage-key-x"), timeout=10
    )
    assert response.status_code == 200
    assert httpx.get(f"{server.base_url}/nowhere", headers=bearer("garbage-key-y"), timeout=10).status_code == 404
    assert server.logs().count("token rejected") == rejections_before  # tokens are verified on the endpoint only


@pytest.mark.anyio
async def test_valid_key_reaches_tools_and_about_shows_the_caller(server: McpServerProcess) -> None:
    async with mcp_client(server.url, READER_KEY) as client:
        result = await client.call_tool("about", {})
    about = result.structured_content
    assert about is not None
    assert about["caller"] == {"client_id": "reader", "subject": "reader", "scopes": ["oscal:read", "profile"]}
    assert about["auth"]["enabled"] is True
    assert about["auth"]["verifier"] == "static"
    assert READER_KEY not in json.dumps(about)


@pytest.mark.anyio
async def test_a_broader_scope_satisfies_a_narrower_one(server: McpServerProcess) -> None:
    async with mcp_client(server.url, ADMIN_KEY) as client:
        about = (await client.call_tool("about", {})).structured_content
    assert about is not None
    assert about["caller"]["scopes"] == ["oscal:admin", "oscal:read", "oscal:write"]


def test_rejections_are_logged_with_reasons_and_never_the_key(server: McpServerProcess) -> None:
    logged: list[str] = []
    for key in (OLD_KEY, "wrong-key", GUEST_KEY):
        logged_before = server.log_position()
        post_initialize(server.url, bearer(key))
        logged.append(server.logs(since=logged_before))
    assert "reason=expired" in logged[0]
    assert "reason=unknown_key" in logged[1]
    assert "reason=insufficient_scope" in logged[2]
    for secret in (READER_KEY, GUEST_KEY, OLD_KEY, ADMIN_KEY):
        assert secret not in server.logs()


def test_static_without_issuer_serves_no_metadata_and_a_plain_challenge(tmp_path: Path) -> None:
    env = {"OSCAL_AUTH_VERIFIER": "static", "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys_file(tmp_path))}
    with McpServerProcess(env=env) as server:
        response = post_initialize(server.url)
        assert response.status_code == 401
        assert response.headers.get_list("www-authenticate") == ["Bearer"]  # no DPoP: a static key binds nothing
        assert httpx.get(f"{server.base_url}/.well-known/oauth-protected-resource/mcp").status_code == 404
        assert post_initialize(server.url, bearer(GUEST_KEY)).status_code == 200


def run_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oscal_mcp", "--transport", "streamable-http", "--port", "1"],
        capture_output=True, text=True, timeout=60, env=clean_environment(env),
    )  # fmt: skip


def test_malformed_keys_file_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "keys.json"
    bad.write_text('{"keys": [{"client_id": "x", "key_sha256": "nothex"}]}')
    result = run_cli({"OSCAL_AUTH_VERIFIER": "static", "OSCAL_AUTH_STATIC_KEYS_FILE": str(bad)})
    assert result.returncode == 2
    assert "keys[0].key_sha256" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_verifier_stops_start_up_listing_installed_ones() -> None:
    result = run_cli({"OSCAL_AUTH_VERIFIER": "kerberos"})
    assert result.returncode == 2
    assert "OSCAL_AUTH_VERIFIER='kerberos' is not an installed verifier; installed:" in result.stderr
    assert "static" in result.stderr


def test_dpop_is_neither_offered_nor_accepted_since_a_static_key_is_bound_to_nothing(
    server: McpServerProcess,
) -> None:
    """Issue 20: DPoP only where the verifier can bind tokens; the metadata says so by omission
    (RFC 9728 section 2: no ``dpop_signing_alg_values_supported``)."""
    from tests.e2e.dpop_client import DPoPKey

    for headers in ({}, bearer("wrong-key")):
        schemes = [
            value.split(" ")[0] for value in post_initialize(server.url, headers).headers.get_list("www-authenticate")
        ]
        assert schemes == ["Bearer"]
    proof = DPoPKey.generate().proof("POST", server.url, access_token=READER_KEY)
    response = post_initialize(server.url, {"Authorization": f"DPoP {READER_KEY}", "DPoP": proof})
    assert response.status_code == 401
    assert "error" not in challenge_params(response)  # DPoP is no scheme this server takes: no credentials
    document = httpx.get(f"{server.base_url}/.well-known/oauth-protected-resource/mcp", timeout=10).json()
    assert "dpop_signing_alg_values_supported" not in document
    assert document.get("dpop_bound_access_tokens_required") in (None, False)


@pytest.mark.parametrize("setting", ["OSCAL_AUTH_DPOP_REQUIRED", "OSCAL_AUTH_DPOP_NONCE"])
def test_requiring_dpop_of_static_keys_stops_start_up(tmp_path: Path, setting: str) -> None:
    result = run_cli({"OSCAL_AUTH_VERIFIER": "static", "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys_file(tmp_path)),
                      setting: "true"})  # fmt: skip
    assert result.returncode == 2
    assert f"{setting}=true needs DPoP-bound tokens" in result.stderr and f"unset {setting}" in result.stderr
