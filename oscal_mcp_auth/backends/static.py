"""``static``: pre-shared keys, for development and service-to-service use.

``OSCAL_AUTH_STATIC_KEYS_FILE`` names a JSON file::

    {"keys": [{"client_id": "ci-bot", "scopes": ["oscal:read"],
               "key_sha256": "<64 hex digits>", "expires_at": 1893456000}]}

Only SHA-256 hashes of the keys are stored. A presented token is hashed and compared with every
stored hash in constant time. Make a key with ``python -c "import secrets; print(secrets.token_urlsafe(32))"``
and its hash with ``printf %s "$KEY" | sha256sum``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

from mcp.server.auth.provider import AccessToken
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from oscal_mcp_auth.claims import check_expiry
from oscal_mcp_auth.errors import ConfigurationError, TokenRejected
from oscal_mcp_auth.logsafe import shown
from oscal_mcp_auth.secret_files import check_permissions
from oscal_mcp_auth.sections import Section
from oscal_mcp_auth.settings import AuthConfig, backend_settings

_SETTING = "OSCAL_AUTH_STATIC_KEYS_FILE"


class StaticSettings(Section):
    model_config = SettingsConfigDict(env_prefix="OSCAL_AUTH_STATIC_")  # names it for `oscal-mcp settings`

    keys_file: Path


class StaticKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    scopes: tuple[str, ...] = ()
    key_sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    expires_at: int | None = None

    @field_validator("key_sha256")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class StaticKeysFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: tuple[StaticKey, ...] = Field(min_length=1)


def load_keys(path: Path) -> tuple[StaticKey, ...]:
    """Read and validate a keys file; every problem names the file and the line or field. One that
    group or others may write is refused: whoever writes it can add a key of their own."""
    check_permissions(_SETTING, path, confidential=False)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{_SETTING}={str(path)!r} cannot be read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{_SETTING}={str(path)!r} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    try:
        keys = StaticKeysFile.model_validate(data).keys
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"])
        raise ConfigurationError(
            f"{_SETTING}={str(path)!r}: {where.lstrip('.') or 'document'}: {first['msg']}"
        ) from None
    hashes = [key.key_sha256 for key in keys]
    if len(set(hashes)) != len(hashes):
        raise ConfigurationError(f"{_SETTING}={str(path)!r}: two entries have the same key_sha256")
    return keys


class StaticKeyVerifier:
    """Accepts a token whose SHA-256 equals one of the configured hashes."""

    binds_tokens = False
    """A pre-shared key is bound to nothing: DPoP (RFC 9449) is not offered with this verifier, and
    requiring it is a start-up error (`oscal_mcp_auth.verifier.load_verifier`)."""

    def __init__(self, keys: tuple[StaticKey, ...], *, resource: str | None, issuer: str | None) -> None:
        self._keys = keys
        self._resource = resource
        self._issuer = issuer

    async def verify_token(self, token: str) -> AccessToken:
        presented = hashlib.sha256(token.encode()).hexdigest()
        match: StaticKey | None = None
        for key in self._keys:  # no early exit: every comparison runs
            if hmac.compare_digest(presented, key.key_sha256):
                match = key
        if match is None:
            raise TokenRejected("unknown_key")
        # The expiry is this server's own setting, read on this server's clock: no skew to tolerate.
        if check_expiry(match.expires_at, time.time(), leeway=0):
            raise TokenRejected("expired", f"client_id={shown(match.client_id)}")
        return AccessToken(
            token=token,
            client_id=match.client_id,
            scopes=list(match.scopes),
            expires_at=match.expires_at,
            resource=self._resource,
            subject=match.client_id,
            claims={"iss": self._issuer} if self._issuer else None,
        )


def create_verifier(config: AuthConfig) -> StaticKeyVerifier:
    settings = backend_settings(config, "static", StaticSettings)
    return StaticKeyVerifier(
        load_keys(settings.keys_file), resource=config.resource_server_url, issuer=config.issuer_url
    )
