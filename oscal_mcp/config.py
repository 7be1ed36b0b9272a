"""Server settings: defaults < .env file < environment < command line, validated once at start-up."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values

from oscal_mcp.cors import parse_cors_origins
from oscal_mcp.rebinding import parse_hosts, parse_origins
from oscal_mcp.tools.settings import ToolSettings
from oscal_mcp_auth.config import AuthConfig, parse_bool, parse_int
from oscal_mcp_auth.errors import ConfigurationError

Transport = Literal["stdio", "streamable-http"]
TRANSPORTS: tuple[Transport, ...] = ("stdio", "streamable-http")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_SESSIONS = 10_000  # stateful streamable-http sessions held at once (the SDK's default)
DEFAULT_SESSION_IDLE_SECONDS = 30 * 60


class ConfigError(ConfigurationError):
    """A server setting is invalid; the message names the setting, the value and what is accepted."""


@dataclass(frozen=True)
class Settings:
    transport: Transport = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    path: str = "/mcp"
    stateless_http: bool = False
    server_name: str = "oscal-mcp"
    log_level: str = "INFO"
    allow_unauthenticated: bool = False
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_sessions: int = DEFAULT_MAX_SESSIONS
    session_idle_seconds: int = DEFAULT_SESSION_IDLE_SECONDS
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    json_response: bool = False
    auth: AuthConfig = field(default_factory=AuthConfig)
    tools: ToolSettings = field(default_factory=ToolSettings)

    @property
    def auth_enabled(self) -> bool:
        """Auth applies to streamable-http only; stdio is a local, single-user transport."""
        return self.transport == "streamable-http" and self.auth.configured

    @property
    def public_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}{self.path}"


def merged_values(
    cli: Mapping[str, str | None],
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path | None = None,
) -> dict[str, str]:
    """Merge the sources of ``OSCAL_*`` settings; a later source wins: .env, environment, CLI."""
    environ = os.environ if environ is None else environ
    dotenv_path = Path(".env") if dotenv_path is None else dotenv_path
    merged: dict[str, str] = {}
    if dotenv_path.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update({k: v for k, v in environ.items() if k.startswith("OSCAL_")})
    merged.update({k: v for k, v in cli.items() if v is not None})
    return merged


def load_settings(values: Mapping[str, str]) -> Settings:
    """Validate merged values into Settings; raises ConfigurationError naming the bad setting."""
    transport = _choice(values, "OSCAL_MCP_TRANSPORT", "stdio", TRANSPORTS)
    host = _host(values.get("OSCAL_MCP_HOST", "127.0.0.1"))
    port = parse_int(values, "OSCAL_MCP_PORT", 8000, minimum=1, maximum=65535)
    path = _path(values.get("OSCAL_MCP_PATH", "/mcp"))
    settings = Settings(
        transport=transport,  # type: ignore[arg-type]
        host=host,
        port=port,
        path=path,
        stateless_http=parse_bool(values, "OSCAL_MCP_STATELESS_HTTP", False),
        server_name=(values.get("OSCAL_MCP_SERVER_NAME") or "oscal-mcp").strip() or "oscal-mcp",
        log_level=_choice(values, "OSCAL_MCP_LOG_LEVEL", "INFO", LOG_LEVELS, upper=True),
        allow_unauthenticated=parse_bool(values, "OSCAL_MCP_ALLOW_UNAUTHENTICATED", False),
        max_request_bytes=parse_int(
            values, "OSCAL_MCP_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES, minimum=1024, maximum=1 << 31
        ),
        max_sessions=parse_int(values, "OSCAL_MCP_MAX_SESSIONS", DEFAULT_MAX_SESSIONS, minimum=1, maximum=1_000_000),
        session_idle_seconds=parse_int(
            values, "OSCAL_MCP_SESSION_IDLE_SECONDS", DEFAULT_SESSION_IDLE_SECONDS, minimum=1, maximum=7 * 86_400
        ),
        allowed_hosts=_listed(values, "OSCAL_MCP_ALLOWED_HOSTS", parse_hosts),
        allowed_origins=_listed(values, "OSCAL_MCP_ALLOWED_ORIGINS", parse_origins),
        cors_origins=_listed(values, "OSCAL_MCP_CORS_ORIGINS", parse_cors_origins),
        json_response=parse_bool(values, "OSCAL_MCP_JSON_RESPONSE", False),
    )
    default_resource = settings.public_url if is_loopback(host) else None
    auth = AuthConfig.from_mapping(values, default_resource_url=default_resource)
    settings = replace(settings, auth=auth, tools=ToolSettings.from_mapping(values))
    _check_exposure(settings)
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
                f"OSCAL_AUTH_RESOURCE_SERVER_URL is required when binding to {settings.host}: set it to this "
                "server's public URL including the path, e.g. https://oscal.example.com/mcp"
            )
        return
    if not settings.allow_unauthenticated:
        raise ConfigError(
            f"refusing to serve streamable-http on non-loopback address {settings.host} without "
            "authentication; configure OSCAL_AUTH_ISSUER_URL (or OSCAL_AUTH_VERIFIER), or pass "
            "--allow-unauthenticated (OSCAL_MCP_ALLOW_UNAUTHENTICATED=true) if a proxy in front "
            "authenticates every request"
        )


def _choice(
    values: Mapping[str, str], name: str, default: str, accepted: tuple[str, ...], *, upper: bool = False
) -> str:
    raw = values.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().upper() if upper else raw.strip()
    if value not in accepted:
        raise ConfigError(f"{name}={raw!r} is not accepted; use one of: {', '.join(accepted)}")
    return value


def _listed(values: Mapping[str, str], name: str, parse: Callable[[str], tuple[str, ...]]) -> tuple[str, ...]:
    try:
        return parse(values.get(name, ""))
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _host(raw: str) -> str:
    host = raw.strip()
    if not host or any(c in host for c in "/ \t?#@"):
        raise ConfigError(f"OSCAL_MCP_HOST={raw!r} is not a host name or IP address")
    return host


def _path(raw: str) -> str:
    path = raw.strip()
    if not path.startswith("/") or any(c in path for c in " ?#") or path.startswith("/.well-known"):
        raise ConfigError(
            f"OSCAL_MCP_PATH={raw!r} is not accepted; use an absolute URL path such as /mcp "
            "(no spaces, query, fragment or /.well-known prefix)"
        )
    return path.rstrip("/") or "/"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
