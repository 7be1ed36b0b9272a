"""AuthConfig: the validated, immutable auth settings shared by every backend.

Settings come from a flat mapping of ``OSCAL_AUTH_*`` names (the process environment, a .env file
and CLI flags merged by the caller). They are validated once, at start-up; nothing reads
``os.environ`` after that. Backend-specific settings (``OSCAL_AUTH_<NAME>_*``) stay in
`AuthConfig.environ` until the selected backend validates them with `backend_settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, BaseModel, ValidationError

from oscal_mcp_auth.errors import ConfigurationError
from oscal_mcp_auth.scopes import parse_implications

DEFAULT_LEEWAY_SECONDS = 60
MIN_CACHE_SECRET_BYTES = 32
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class AuthConfig:
    """Validated auth settings. `verifier` is None when authentication is not configured."""

    verifier: str | None = None
    issuer_url: str | None = None
    resource_server_url: str | None = None
    required_scopes: tuple[str, ...] = ()
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS
    scope_implies: Mapping[str, frozenset[str]] = field(default_factory=dict)
    cache_url: str | None = field(default=None, repr=False)  # may hold a Redis password
    cache_secret: bytes | None = field(default=None, repr=False)  # authenticates every Redis entry
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def configured(self) -> bool:
        return self.verifier is not None

    @classmethod
    def from_mapping(cls, values: Mapping[str, str], *, default_resource_url: str | None = None) -> AuthConfig:
        """Validate the ``OSCAL_AUTH_*`` entries of `values`.

        The verifier defaults to ``jwt`` when an issuer is set; with neither an issuer nor a
        verifier, authentication is off. `default_resource_url` is used when
        ``OSCAL_AUTH_RESOURCE_SERVER_URL`` is unset (the caller derives it for loopback only).
        """
        issuer = _optional_url(values, "OSCAL_AUTH_ISSUER_URL")
        verifier = (values.get("OSCAL_AUTH_VERIFIER") or "").strip() or None
        if verifier is None and issuer is not None:
            verifier = "jwt"
        resource = _optional_url(values, "OSCAL_AUTH_RESOURCE_SERVER_URL") or default_resource_url
        cache_url = _cache_url(values.get("OSCAL_AUTH_CACHE_URL"))
        return cls(
            verifier=verifier,
            issuer_url=issuer,
            resource_server_url=resource,
            # commas per the documentation; spaces too, since "a b" can only mean two scopes
            required_scopes=parse_list(",".join(values.get("OSCAL_AUTH_REQUIRED_SCOPES", "").split())),
            leeway_seconds=parse_int(
                values, "OSCAL_AUTH_LEEWAY_SECONDS", DEFAULT_LEEWAY_SECONDS, minimum=0, maximum=3600
            ),
            cache_url=cache_url,
            cache_secret=_cache_secret(values, required=cache_url is not None),
            scope_implies=MappingProxyType(parse_implications(values.get("OSCAL_AUTH_SCOPE_IMPLIES", ""))),
            environ=MappingProxyType(dict(values)),
        )


def parse_list(raw: str) -> tuple[str, ...]:
    """A comma-separated setting: items stripped, empties dropped, order kept, duplicates removed."""
    items = (item.strip() for item in raw.split(","))
    return tuple(dict.fromkeys(item for item in items if item))


def parse_bool(values: Mapping[str, str], name: str, default: bool) -> bool:
    raw = values.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean; use true or false")


def parse_int(values: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = values.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        number = int(raw.strip())
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if not minimum <= number <= maximum:
        raise ConfigurationError(f"{name}={number} is out of range; use {minimum} to {maximum}")
    return number


def validate_http_url(name: str, raw: str, *, credentials_hint: str = "configure them separately") -> str:
    """An absolute http(s) URL with a host, no fragment and no credentials, stripped of spaces."""
    url = raw.strip()
    parts = urlsplit(url)
    if "@" in parts.netloc:  # checked first: the message must not echo a password
        raise ConfigurationError(f"{name} must not carry credentials (user:password@); {credentials_hint}")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ConfigurationError(
            f"{name}={raw!r} is not a valid URL; use an absolute http:// or https:// URL without a fragment"
        )
    return url


def _cache_url(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
        # never echo the value: it may contain the Redis password
        raise ConfigurationError("OSCAL_AUTH_CACHE_URL is not a redis://, rediss:// or unix:// URL")
    return url


def _cache_secret(values: Mapping[str, str], *, required: bool) -> bytes | None:
    """``OSCAL_AUTH_CACHE_SECRET`` or the contents of ``OSCAL_AUTH_CACHE_SECRET_FILE`` (never echoed)."""
    inline = values.get("OSCAL_AUTH_CACHE_SECRET") or None
    path = (values.get("OSCAL_AUTH_CACHE_SECRET_FILE") or "").strip() or None
    if inline is not None and path is not None:
        raise ConfigurationError("set either OSCAL_AUTH_CACHE_SECRET or OSCAL_AUTH_CACHE_SECRET_FILE, not both")
    if path is not None:
        try:
            inline = Path(path).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"OSCAL_AUTH_CACHE_SECRET_FILE ({path}) is not readable: {type(exc).__name__}"
            ) from None
    if inline is None:
        if required:
            raise ConfigurationError(
                "OSCAL_AUTH_CACHE_URL needs OSCAL_AUTH_CACHE_SECRET (or OSCAL_AUTH_CACHE_SECRET_FILE): a random "
                "value of at least 32 bytes shared by the replicas, e.g. python -c "
                '"import secrets; print(secrets.token_urlsafe(32))"'
            )
        return None
    secret = inline.encode()
    if len(secret) < MIN_CACHE_SECRET_BYTES:
        name = "OSCAL_AUTH_CACHE_SECRET_FILE" if path is not None else "OSCAL_AUTH_CACHE_SECRET"
        raise ConfigurationError(f"{name} is too short: use at least {MIN_CACHE_SECRET_BYTES} bytes")
    return secret


def _optional_url(values: Mapping[str, str], name: str) -> str | None:
    raw = values.get(name)
    if raw is None or not raw.strip():
        return None
    return validate_http_url(name, raw)


def backend_settings(config: AuthConfig, backend: str, model: type[ModelT]) -> ModelT:
    """Validate the ``OSCAL_AUTH_<BACKEND>_*`` variables with a backend's own pydantic model.

    Field ``jwks_uri`` of backend ``jwt`` is read from ``OSCAL_AUTH_JWT_JWKS_URI``. Unknown
    variables with the prefix are refused (a typo must not silently fall back to a default), and
    every validation error names the variable.
    """
    prefix = f"OSCAL_AUTH_{backend.upper()}_"
    raw = {name[len(prefix) :].lower(): value for name, value in config.environ.items() if name.startswith(prefix)}
    unknown = sorted(key for key in raw if key not in model.model_fields)
    if unknown:
        known = ", ".join(prefix + key.upper() for key in model.model_fields)
        raise ConfigurationError(
            f"unknown setting {prefix + unknown[0].upper()}; the {backend} verifier accepts: {known}"
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = prefix + str(first["loc"][0]).upper() if first["loc"] else prefix.rstrip("_")
        value = raw.get(str(first["loc"][0])) if first["loc"] else None
        shown = "" if value is None else f"={value!r}"
        if (first["loc"] and _looks_secret(str(first["loc"][0]))) or (value is not None and "@" in str(value)):
            shown = ""  # a secret, or a URL that may carry user:password
        raise ConfigurationError(f"{location}{shown}: {first['msg']}") from None


def _looks_secret(field_name: str) -> bool:
    return any(word in field_name for word in ("secret", "password", "key"))


def canonical_resource(value: str) -> str:
    """A resource identifier as the SDK compares it: parsed as a URL, a trailing slash aside.

    Values that are not http(s) URLs (an ``aud`` may be any string) are compared as given.
    """
    try:
        return str(AnyHttpUrl(value)).removesuffix("/")
    except ValidationError:
        return value
