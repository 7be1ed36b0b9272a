"""The `demo-hmac` verifier: tokens signed with a shared HMAC secret.

A token is ``base64url("<client_id> <expiry> <scope> <scope>...") + "." + hex(HMAC-SHA256)``,
unpadded so that it fits RFC 6750's token syntax (``=`` may only end a token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from mcp.server.auth.provider import AccessToken
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from oscal_mcp_auth import AuthConfig, Section, TokenRejected, backend_settings


class DemoSettings(Section):
    """Validated from OSCAL_AUTH_DEMO_HMAC_* variables."""

    model_config = SettingsConfigDict(env_prefix="OSCAL_AUTH_DEMO_HMAC_")  # lists them in `oscal-mcp settings`

    secret: SecretStr = Field(min_length=8)


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class DemoHmacVerifier:
    def __init__(self, secret: str, resource: str | None) -> None:
        self._secret = secret
        self._resource = resource

    async def verify_token(self, token: str) -> AccessToken:
        payload, _, signature = token.partition(".")
        if not hmac.compare_digest(signature, sign(self._secret, payload)):
            raise TokenRejected("bad_signature")
        try:
            client_id, expiry, *scopes = (
                base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().split(" ")
            )
            expires_at = int(expiry)
        except ValueError:
            raise TokenRejected("malformed", "payload is not 'client_id expiry scope...'") from None
        if expires_at < time.time():
            raise TokenRejected("expired", f"client_id={client_id}")
        return AccessToken(
            token=token,
            client_id=client_id,
            scopes=scopes,
            expires_at=expires_at,
            resource=self._resource,
            subject=client_id,
        )


def create_verifier(config: AuthConfig) -> DemoHmacVerifier:
    settings = backend_settings(config, "demo_hmac", DemoSettings)
    return DemoHmacVerifier(settings.secret.get_secret_value(), config.resource_server_url)
