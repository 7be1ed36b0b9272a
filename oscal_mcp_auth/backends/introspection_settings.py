"""Settings of the ``introspection`` verifier (``OSCAL_AUTH_INTROSPECTION_*``), validated at start-up.

Their meaning is told in `oscal_mcp_auth.backends.introspection`; the client secret (or its file)
is read here, once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from oscal_mcp_auth.errors import ConfigurationError
from oscal_mcp_auth.secret_files import read_secret_file
from oscal_mcp_auth.sections import Section
from oscal_mcp_auth.settings import AuthConfig, backend_settings
from oscal_mcp_auth.urls import url_problem

NAME = "introspection"
PREFIX = "OSCAL_AUTH_INTROSPECTION_"
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024


class IntrospectionSettings(Section):
    """``OSCAL_AUTH_INTROSPECTION_<FIELD>`` settings; see the module docstring for their meaning."""

    model_config = SettingsConfigDict(env_prefix=PREFIX)  # names it for `oscal-mcp settings`

    url: str | None = None
    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    require_audience: bool = True
    cache_seconds: int = Field(default=60, ge=0, le=86_400)
    inactive_cache_seconds: int = Field(default=5, ge=0, le=3_600)
    cache_max_entries: int = Field(default=10_000, ge=1, le=10_000_000)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, ge=1024, le=16 * 1024 * 1024)

    @field_validator("url", "client_secret", "client_secret_file", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        problem = None if value is None else url_problem(value)
        if problem:
            hint = f"put credentials in {PREFIX}CLIENT_ID and {PREFIX}CLIENT_SECRET, not in the URL"
            raise ValueError(problem.replace("configure them separately", hint))
        return value


def load_settings(config: AuthConfig) -> IntrospectionSettings:
    """Validate the settings against `config`; the returned object holds the secret itself.

    Raises `ConfigurationError` naming the setting to fix.
    """
    if len(config.issuer_urls) > 1:
        # An opaque token does not say which Authorization Server issued it, so there is no way to
        # pick the endpoint to ask; asking each in turn would send every token to every issuer.
        raise ConfigurationError(
            f"the introspection verifier supports one issuer; {config.name_of('ISSUER_URL')} lists "
            f"{len(config.issuer_urls)}: keep one, or use the jwt verifier, which accepts several"
        )
    settings = backend_settings(config, NAME, IntrospectionSettings)
    if settings.url is not None:
        config.require_secure_url("INTROSPECTION_URL", settings.url)
    if settings.url is None and config.issuer_url is None:
        raise ConfigurationError(
            f"the introspection verifier needs its endpoint: set OSCAL_AUTH_ISSUER_URL (the endpoint is then "
            f"discovered from the issuer's metadata) or {PREFIX}URL"
        )
    if config.resource_server_url is None:
        raise ConfigurationError(
            "the introspection verifier needs OSCAL_AUTH_RESOURCE_SERVER_URL (this server's public URL including "
            "the path) to check that tokens were issued for this server"
        )
    secret = SecretStr(_client_secret(settings))
    return settings.model_copy(update={"client_secret": secret, "client_secret_file": None})


def _client_secret(settings: IntrospectionSettings) -> str:
    if settings.client_secret is not None and settings.client_secret_file is not None:
        raise ConfigurationError(f"set {PREFIX}CLIENT_SECRET or {PREFIX}CLIENT_SECRET_FILE, not both")
    if settings.client_secret is not None:
        return settings.client_secret.get_secret_value()
    path = settings.client_secret_file
    if path is None:
        raise ConfigurationError(
            f"the introspection verifier authenticates to the authorization server: set {PREFIX}CLIENT_SECRET "
            f"or {PREFIX}CLIENT_SECRET_FILE"
        )
    raw = read_secret_file(f"{PREFIX}CLIENT_SECRET_FILE", path)
    try:
        secret = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError(f"{PREFIX}CLIENT_SECRET_FILE={str(path)!r} is not UTF-8 text") from None
    if not secret:
        raise ConfigurationError(f"{PREFIX}CLIENT_SECRET_FILE={str(path)!r} is empty")
    return secret
