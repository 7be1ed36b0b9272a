"""DNS-rebinding protection: only the Host and Origin values this server is really reached by.

A web page the user visits can make the browser send requests to a server on the user's machine
once the page's own host name resolves to 127.0.0.1 (DNS rebinding). Such requests still carry
the page's host name in ``Host`` (and its origin in ``Origin``), so a server that refuses unknown
values is out of reach (MCP transport spec, "Security Warning"). The SDK's own check allows only
loopback ``Host`` values on three spellings of a loopback bind and logs every refusal; this one
is on for every loopback bind, follows the resource URL a reverse proxy forwards, runs before
authentication and logs each refused value once, naming the setting to change.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("oscal_mcp")

HOSTS_SETTING = "OSCAL_MCP_ALLOWED_HOSTS"
ORIGINS_SETTING = "OSCAL_MCP_ALLOWED_ORIGINS"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_REMEMBERED = 256  # refused values logged once each; beyond this many, new ones are not logged

_NAME = r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?"
_HOST = rf"(?:{_NAME}|\[[0-9a-f:.]+\])"
_PORT = r"(?::(?:[0-9]{1,5}|\*))?"
_HOST_PATTERN = re.compile(rf"{_HOST}{_PORT}")
_ORIGIN_PATTERN = re.compile(rf"[a-z][a-z0-9+.-]*://{_HOST}{_PORT}")


def parse_hosts(raw: str) -> tuple[str, ...]:
    """Comma-separated ``host``, ``host:port`` or ``host:*`` (any port); raises ValueError."""
    return _parse(raw, _HOST_PATTERN, "a host name or IP address ([...] around IPv6), optionally with :port or :*")


def parse_origins(raw: str) -> tuple[str, ...]:
    """Comma-separated ``scheme://host``, ``scheme://host:port`` or ``scheme://host:*``; raises ValueError."""
    return _parse(raw, _ORIGIN_PATTERN, "an origin such as https://app.example.com (no path), optionally with :*")


def _parse(raw: str, pattern: re.Pattern[str], accepted: str) -> tuple[str, ...]:
    items = [item.strip().lower() for item in raw.split(",")]
    for item in items:
        if item and not pattern.fullmatch(item):
            raise ValueError(f"{item!r} is not {accepted}")
    return tuple(dict.fromkeys(item for item in items if item))


def is_loopback_host(host: str) -> bool:
    """``localhost`` and every spelling of a loopback address: 127/8, ``::1``, ``::ffff:127.x.y.z``."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _with_any_port(host: str) -> tuple[str, str]:
    return host, f"{host}:*"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def default_hosts(bind_host: str, resource_url: str | None) -> tuple[str, ...]:
    """The loopback names with any port, the bind address itself, and the resource URL's host."""
    hosts = [item for name in LOOPBACK_NAMES for item in _with_any_port(name)]
    if is_loopback_host(bind_host):
        hosts += _with_any_port(_url_host(bind_host.lower()))
    if resource_url:
        parts = urlsplit(resource_url)
        name = _url_host(parts.hostname or "")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        hosts += [name, f"{name}:{port}"]
    return tuple(dict.fromkeys(hosts))


def default_origins(resource_url: str | None) -> tuple[str, ...]:
    """Pages served from loopback on any port, and the resource URL's own origin."""
    loopback = [host for name in LOOPBACK_NAMES for host in _with_any_port(name)]
    origins = [f"{scheme}://{host}" for scheme in ("http", "https") for host in loopback]
    if resource_url:
        parts = urlsplit(resource_url)
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(dict.fromkeys(origins))


def _allows(patterns: tuple[str, ...], value: str) -> bool:
    if value in patterns:
        return True
    base, sep, port = value.rpartition(":")
    return bool(sep) and port.isdigit() and f"{base}:*" in patterns


@dataclass(frozen=True)
class RebindingPolicy:
    """The Host and Origin values accepted; `origins` None accepts every origin (CORS ``*``)."""

    hosts: tuple[str, ...]
    origins: tuple[str, ...] | None

    def allows_host(self, host: str | None) -> bool:
        return host is not None and _allows(self.hosts, host.lower())

    def allows_origin(self, origin: str | None) -> bool:
        # no Origin: not a cross-origin browser request (RFC 6454 section 7.3)
        return origin is None or self.origins is None or _allows(self.origins, origin.lower())


class RebindingGuard:
    """ASGI middleware: 421 for a Host, 403 for an Origin the policy does not accept."""

    def __init__(self, app: ASGIApp, policy: RebindingPolicy) -> None:
        self.app = app
        self.policy = policy
        self._logged: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host, origin = headers.get("host"), headers.get("origin")
        if not self.policy.allows_host(host):
            self._log_once("Host", host, HOSTS_SETTING)
            await PlainTextResponse("Invalid Host header", status_code=421)(scope, receive, send)
        elif not self.policy.allows_origin(origin):
            self._log_once("Origin", origin, ORIGINS_SETTING)
            await PlainTextResponse("Invalid Origin header", status_code=403)(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _log_once(self, header: str, value: str | None, setting: str) -> None:
        key = f"{header}:{value}"
        if key in self._logged or len(self._logged) >= _REMEMBERED:
            return
        self._logged.add(key)
        logger.warning(
            "refused a request with %s header %r (DNS-rebinding protection); if clients really reach "
            "this server by that name, add it to %s",
            header,
            None if value is None else value[:200],
            setting,
        )


def policy_for(
    *,
    bind_host: str,
    resource_url: str | None,
    allowed_hosts: tuple[str, ...],
    allowed_origins: tuple[str, ...],
    cors_origins: tuple[str, ...],
) -> RebindingPolicy | None:
    """The policy for a server, or None when protection is off (a non-loopback bind, no allow-list).

    A set allow-list replaces its default. Origins allowed for CORS are always accepted, and
    CORS ``*`` accepts every origin (``Host`` is still checked: that is what rebinding changes).
    """
    if not (is_loopback_host(bind_host) or allowed_hosts or allowed_origins):
        return None
    hosts = allowed_hosts or default_hosts(bind_host, resource_url)
    if "*" in cors_origins:
        return RebindingPolicy(hosts, None)
    origins = allowed_origins or default_origins(resource_url)
    return RebindingPolicy(hosts, tuple(dict.fromkeys((*origins, *cors_origins))))
