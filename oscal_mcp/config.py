"""Server settings: defaults < .env file < environment < command line, validated once at start-up.

Three pydantic-settings models, each with its prefix, read from one snapshot of the environment
(`merged_values`): `ServerSettings` (``OSCAL_MCP_*``), `ToolSettings` (``OSCAL_*``) and the auth
library's `AuthConfig` (``OSCAL_AUTH_*``, each backend or plugin reading only its own section).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from mcp.server.auth.settings import AuthSettings
from pydantic import Field, InstanceOf, ValidationError, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from oscal_mcp.cors import parse_cors_origins
from oscal_mcp.errors import ConfigError
from oscal_mcp.rebinding import parse_hosts, parse_origins
from oscal_mcp.tools.settings import ToolSettings
from oscal_mcp_auth.sections import Section, comma_list, load_section, read_environment
from oscal_mcp_auth.settings import AuthConfig

__all__ = ["ConfigError", "ServerSettings", "Settings", "is_loopback", "load_settings", "merged_values"]

PREFIX = "OSCAL_"
SERVER_PREFIX = "OSCAL_MCP_"
Transport = Literal["stdio", "streamable-http"]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_SESSIONS = 10_000  # stateful streamable-http sessions held at once (the SDK's default)
DEFAULT_SESSION_IDLE_SECONDS = 30 * 60
DEFAULT_MAX_SESSIONS_PER_PRINCIPAL = 100  # so one client cannot hold all of DEFAULT_MAX_SESSIONS
DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
LOOPBACK_PROXIES = ("127.0.0.1", "::1")
# what may be bound: a host name, an IPv4 address, an IPv6 address (bracketed or not, with a zone)
_PROBE_PATH = re.compile(r"/[A-Za-z0-9._~/-]*")
_BIND_HOST = re.compile(r"[A-Za-z0-9_.-]+|\[?[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?\]?")


class ServerSettings(Section):
    """``OSCAL_MCP_<FIELD>``: the server itself."""

    model_config = SettingsConfigDict(env_prefix=SERVER_PREFIX)

    transport: Transport = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    path: str = "/mcp"
    stateless_http: bool = False
    server_name: str = "oscal-mcp"
    log_level: str = "INFO"  # one of LOG_LEVELS; a str because the SDK's own parameter is one
    log_format: Literal["text", "json"] = "text"
    allow_unauthenticated: bool = False
    max_request_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BYTES, ge=1024, le=1 << 31)
    max_sessions: int = Field(default=DEFAULT_MAX_SESSIONS, ge=1, le=1_000_000)
    session_idle_seconds: int = Field(default=DEFAULT_SESSION_IDLE_SECONDS, ge=1, le=7 * 86_400)
    max_sessions_per_principal: int = Field(default=DEFAULT_MAX_SESSIONS_PER_PRINCIPAL, ge=1, le=1_000_000)
    header_timeout_seconds: float = Field(default=DEFAULT_HEADER_TIMEOUT_SECONDS, ge=0.1, le=3600)
    forwarded_allow_ips: tuple[str, ...] = LOOPBACK_PROXIES
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    json_response: bool = False
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    health_path: str = "/healthz"
    ready_path: str = "/readyz"

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"not accepted; use one of: {', '.join(LOG_LEVELS)}")
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("host", "metrics_host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not _BIND_HOST.fullmatch(value):
            raise ValueError("not a host name or IP address")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or any(c in value for c in " ?#") or value.startswith("/.well-known"):
            raise ValueError(
                "not accepted; use an absolute URL path such as /mcp "
                "(no spaces, query, fragment or /.well-known prefix)"
            )
        return value.rstrip("/") or "/"

    @field_validator("health_path", "ready_path")
    @classmethod
    def _probe_path(cls, value: str) -> str:
        if value == "/" or value.startswith("/.well-known") or not _PROBE_PATH.fullmatch(value):
            raise ValueError("not accepted; use an absolute URL path such as /healthz (not /, no /.well-known)")
        return value

    @model_validator(mode="after")
    def _distinct_paths(self) -> ServerSettings:
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ValueError("OSCAL_MCP_METRICS_PORT must differ from OSCAL_MCP_PORT: metrics have their own listener")
        if len({self.path, self.health_path, self.ready_path}) < 3:
            raise ValueError(
                "OSCAL_MCP_PATH, OSCAL_MCP_HEALTH_PATH and OSCAL_MCP_READY_PATH must be three different paths"
            )
        return self

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        proxies = comma_list(value)
        for proxy in proxies:
            if proxy != "*" and not _is_network(proxy):
                raise ValueError(f"{proxy!r} is not an IP address, a network such as 10.0.0.0/8, or *")
        return proxies

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        return parse_hosts(value) if isinstance(value, str) else value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        return parse_origins(value) if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_origins(cls, value: Any) -> Any:
        return parse_cors_origins(value) if isinstance(value, str) else value

    @property
    def public_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}{self.path}"


class Settings(ServerSettings):
    """Everything the server needs: its own settings plus the validated auth and tool sections."""

    auth: InstanceOf[AuthConfig] = Field(default_factory=AuthConfig)
    tools: InstanceOf[ToolSettings] = Field(default_factory=ToolSettings)

    @property
    def auth_enabled(self) -> bool:
        """Auth applies to streamable-http only; stdio is a local, single-user transport."""
        return self.transport == "streamable-http" and self.auth.configured


def merged_values(
    cli: Mapping[str, str | None],
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path | None = None,
) -> dict[str, str]:
    """One snapshot of the ``OSCAL_*`` settings; a later source wins: .env, environment, CLI."""
    return read_environment(PREFIX, environ=environ, env_file=dotenv_path or Path(".env"), overrides=cli)


def load_settings(values: Mapping[str, str]) -> Settings:
    """Validate a snapshot into Settings; raises `ConfigError` (server and tool settings) or the
    auth library's `ConfigurationError` (auth settings), each naming the bad setting."""
    server = load_section(ServerSettings, values, SERVER_PREFIX, error=ConfigError, what="the server")
    default_resource = server.public_url if is_loopback(server.host) else None
    auth = AuthConfig.from_mapping(values, default_resource_url=default_resource)
    settings = Settings.model_validate(
        {**server.model_dump(), "auth": auth, "tools": ToolSettings.from_mapping(values)}
    )
    _check_exposure(settings)
    _check_sdk_accepts(settings.auth)
    return settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_exposure(settings: Settings) -> None:
    if settings.transport != "streamable-http" or is_loopback(settings.host):
        return
    if settings.auth.configured:
        if settings.auth.resource_server_url is None:
            raise ConfigError(
                f"OSCAL_AUTH_RESOURCE_SERVER_URL is required when binding to a non-loopback address "
                f"(OSCAL_MCP_HOST={settings.host}): set it to this server's public URL including the path, "
                "e.g. https://oscal.example.com/mcp"
            )
        return
    if not settings.allow_unauthenticated:
        raise ConfigError(
            f"refusing to serve streamable-http on non-loopback address {settings.host} (OSCAL_MCP_HOST) without "
            "authentication; configure OSCAL_AUTH_ISSUER_URL (or OSCAL_AUTH_VERIFIER), or pass "
            "--allow-unauthenticated (OSCAL_MCP_ALLOW_UNAUTHENTICATED=true) if a proxy in front "
            "authenticates every request"
        )


def _check_sdk_accepts(auth: AuthConfig) -> None:
    """The SDK validates the URLs again in its own ``AuthSettings``; a value it refuses is reported
    here, as one line naming the setting, instead of as a traceback when the app is built."""
    if auth.resource_server_url is None:
        return
    for issuer in auth.issuer_urls:
        try:
            AuthSettings.model_validate(
                {
                    "issuer_url": issuer,
                    "resource_server_url": auth.resource_server_url,
                    "required_scopes": list(auth.required_scopes) or None,
                    "validate_token_resource": True,
                }
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]).upper() if first["loc"] else "ISSUER_URL"
            raise ConfigError(f"{auth.name_of(field)}: {first['msg']}") from None


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
