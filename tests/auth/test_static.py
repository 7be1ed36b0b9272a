"""The static backend: hashed pre-shared keys, constant-time comparison, precise file errors."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from oscal_mcp_auth import AuthConfig, ConfigurationError, TokenRejected
from oscal_mcp_auth.backends.static import create_verifier, load_keys

pytestmark = pytest.mark.anyio


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def write_keys(tmp_path: Path, keys: object) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(keys) if not isinstance(keys, str) else keys)
    return path


def config_for(path: Path, **settings: str) -> AuthConfig:
    return AuthConfig.from_mapping(
        {"OSCAL_AUTH_VERIFIER": "static", "OSCAL_AUTH_STATIC_KEYS_FILE": str(path), **settings},
        default_resource_url="http://127.0.0.1:8000/mcp",
    )


async def test_known_key_is_accepted_with_its_identity(tmp_path: Path) -> None:
    path = write_keys(tmp_path, {"keys": [{"client_id": "bot", "scopes": ["oscal:read"], "key_sha256": sha("k1")}]})
    access = await create_verifier(config_for(path)).verify_token("k1")
    assert (access.client_id, access.scopes, access.subject) == ("bot", ["oscal:read"], "bot")
    assert access.resource == "http://127.0.0.1:8000/mcp"


async def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    path = write_keys(tmp_path, {"keys": [{"client_id": "bot", "key_sha256": sha("k1")}]})
    with pytest.raises(TokenRejected) as rejected:
        await create_verifier(config_for(path)).verify_token("k2")
    assert rejected.value.reason == "unknown_key"


async def test_expired_key_is_rejected_naming_its_client(tmp_path: Path) -> None:
    entry = {"client_id": "old", "key_sha256": sha("k1"), "expires_at": int(time.time()) - 1}
    path = write_keys(tmp_path, {"keys": [entry]})
    with pytest.raises(TokenRejected) as rejected:
        await create_verifier(config_for(path)).verify_token("k1")
    assert (rejected.value.reason, rejected.value.detail) == ("expired", "client_id='old'")


async def test_a_key_that_expires_later_is_accepted_with_its_expiry(tmp_path: Path) -> None:
    expires_at = int(time.time()) + 3600
    path = write_keys(tmp_path, {"keys": [{"client_id": "bot", "key_sha256": sha("k1"), "expires_at": expires_at}]})
    assert (await create_verifier(config_for(path)).verify_token("k1")).expires_at == expires_at


async def test_the_configured_issuer_is_the_tokens_iss_claim(tmp_path: Path) -> None:
    path = write_keys(tmp_path, {"keys": [{"client_id": "bot", "key_sha256": sha("k1")}]})
    config = config_for(path, OSCAL_AUTH_ISSUER_URL="https://as.example.com")
    assert (await create_verifier(config).verify_token("k1")).claims == {"iss": "https://as.example.com"}
    assert (await create_verifier(config_for(path)).verify_token("k1")).claims is None  # no issuer, no claims


def test_a_keys_file_others_may_write_is_refused_naming_the_setting_and_the_fix(tmp_path: Path) -> None:
    path = write_keys(tmp_path, {"keys": [{"client_id": "bot", "key_sha256": sha("k1")}]})
    path.chmod(0o662)
    with pytest.raises(ConfigurationError) as refused:
        load_keys(path)
    assert str(refused.value).startswith(f"OSCAL_AUTH_STATIC_KEYS_FILE={str(path)!r} is writable by")
    assert str(refused.value).endswith(f"run: chmod go-w {path}")


async def test_uppercase_hash_matches(tmp_path: Path) -> None:
    path = write_keys(tmp_path, {"keys": [{"client_id": "bot", "key_sha256": sha("k1").upper()}]})
    assert (await create_verifier(config_for(path)).verify_token("k1")).client_id == "bot"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"keys": [\n  {"client_id": "a",}\n]}', r"not valid JSON: .* at line 2, column"),
        ({"keys": []}, r"keys: Tuple should have at least 1 item"),
        ({"keys": [{"client_id": "a"}]}, r"keys\[0\]\.key_sha256: Field required"),
        ({"keys": [{"client_id": "a", "key_sha256": "xyz"}]}, r"keys\[0\]\.key_sha256: String should match pattern"),
        ({"keys": [{"client_id": "", "key_sha256": "a" * 64}]}, r"keys\[0\]\.client_id: String should have at least"),
        ({"keys": [{"client_id": "a", "key_sha256": "a" * 64, "key": "plain"}]}, r"keys\[0\]\.key: Extra inputs"),
        ({"keys": [{"client_id": "a", "key_sha256": "a" * 64}, {"client_id": "b", "key_sha256": "A" * 64}]},
         "two entries have the same key_sha256"),
    ],
)  # fmt: skip
def test_malformed_file_names_line_or_field(tmp_path: Path, content: object, message: str) -> None:
    path = write_keys(tmp_path, content)
    with pytest.raises(ConfigurationError, match=message) as error:
        load_keys(path)
    assert "OSCAL_AUTH_STATIC_KEYS_FILE" in str(error.value)


def test_missing_file_is_a_start_up_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        create_verifier(config_for(tmp_path / "absent.json"))


def test_keys_file_setting_is_required() -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_VERIFIER": "static"})
    with pytest.raises(ConfigurationError, match="OSCAL_AUTH_STATIC_KEYS_FILE: Field required"):
        create_verifier(config)
