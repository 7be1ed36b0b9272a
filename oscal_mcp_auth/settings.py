"""Settings: pydantic-settings models, one per prefix, validated once at start-up.

The environment is read once (`sections.read_environment`: a ``.env`` file < the process environment <
explicit overrides such as command-line flags) into a snapshot of the variables that start with a
prefix; nothing reads ``os.environ`` after that. Each model then validates its own section of the
snapshot (`sections.load_section`): ``OSCAL_AUTH_`` for `AuthConfig`, ``OSCAL_AUTH_<NAME>_`` for the
backend or plugin called NAME, which sees only its section. The library's prefix is a parameter
(default ``OSCAL_AUTH_``), so a server embedding it can use its own.

The snapshot rather than pydantic-settings' own environment source, because that source ignores
unknown names in the process environment (it refuses them only in ``.env`` files): a typo such
as ``OSCAL_AUTH_JWT_AUDIENCE`` with a stray letter must stop start-up instead of silently falling back to a default.
Every error is one line that names the variable; a secret, or a URL that may carry a password,
is never echoed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from oscal_mcp_auth.dpop_policy import DEFAULT_ALGORITHMS as DEFAULT_DPOP_ALGORITHMS
from oscal_mcp_auth.dpop_policy import DEFAULT_MAX_AGE_SECONDS as DEFAULT_DPOP_MAX_AGE_SECONDS
from oscal_mcp_auth.dpop_policy import DPoPPolicy, accepted_algorithms
from oscal_mcp_auth.errors import ConfigurationError
from oscal_mcp_auth.scopes import parse_implications
from oscal_mcp_auth.secret_files import read_secret_file, secret_bytes
from oscal_mcp_auth.sections import ModelT, Section, comma_list, load_section, read_environment
from oscal_mcp_auth.urls import insecure_http_problem, issuer_problem, url_problem

logger = logging.getLogger("oscal_mcp_auth")

DEFAULT_PREFIX = "OSCAL_AUTH_"
DEFAULT_LEEWAY_SECONDS = 60
MIN_CACHE_SECRET_BYTES = 32


class AuthFields(Section):
    """The shared ``<prefix><FIELD>`` settings (``OSCAL_AUTH_ISSUER_URL``...)."""

    verifier: str | None = None
    issuer_url: tuple[str, ...] = ()  # comma-separated: only the jwt verifier accepts several
    resource_server_url: str | None = None
    required_scopes: tuple[str, ...] = ()
    leeway_seconds: int = Field(default=DEFAULT_LEEWAY_SECONDS, ge=0, le=3600)
    scope_implies: str = ""
    cache_url: str | None = Field(default=None, repr=False)
    cache_secret: SecretStr | None = None
    cache_secret_file: Path | None = None
    allow_insecure_http: bool = False
    dpop_algorithms: tuple[str, ...] = DEFAULT_DPOP_ALGORITHMS
    dpop_max_age_seconds: int = Field(default=DEFAULT_DPOP_MAX_AGE_SECONDS, ge=1, le=3600)
    dpop_required: bool = False
    dpop_nonce: bool = False

    @field_validator("dpop_algorithms", mode="before")
    @classmethod
    def _dpop_algorithm_list(cls, value: Any) -> Any:
        return comma_list(value)

    @field_validator("dpop_algorithms")
    @classmethod
    def _dpop_asymmetric_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return accepted_algorithms(value)  # empty: DPoP off

    @field_validator("issuer_url", mode="before")
    @classmethod
    def _issuer_list(cls, value: Any) -> Any:
        return comma_list(value)

    @field_validator("issuer_url")
    @classmethod
    def _http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            problem = issuer_problem(item)
            if problem:
                raise ValueError(problem if "@" in item else f"{item!r} {problem}")  # never echo a password
        return value

    @field_validator("resource_server_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("required_scopes", mode="before")
    @classmethod
    def _scopes(cls, value: Any) -> Any:
        # commas per the documentation; spaces too, since "a b" can only mean two scopes
        return comma_list(",".join(value.split())) if isinstance(value, str) else value

    @field_validator("cache_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
                raise ValueError("is not a redis://, rediss:// or unix:// URL")
        return value


@dataclass(frozen=True)
class AuthConfig:
    """Validated auth settings. `verifier` is None when authentication is not configured.

    `issuer_urls` lists every configured issuer in the order given (only the ``jwt`` verifier
    accepts more than one); `issuer_url` is the first of them, the one MCP clients are sent to.
    `sections` holds the ``<prefix><NAME>_*`` variables of backends and plugins, unvalidated; a
    backend or plugin reads only its own with `backend_settings` (or `section`).
    """

    verifier: str | None = None
    issuer_url: str | None = None
    issuer_urls: tuple[str, ...] = ()
    resource_server_url: str | None = None
    required_scopes: tuple[str, ...] = ()
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS
    scope_implies: Mapping[str, frozenset[str]] = field(default_factory=dict)
    cache_url: str | None = field(default=None, repr=False)  # may hold a Redis password
    cache_secret: bytes | None = field(default=None, repr=False)
    allow_insecure_http: bool = False
    dpop: DPoPPolicy | None = field(default_factory=DPoPPolicy)
    """DPoP-bound tokens (RFC 9449) as accepted; None when ``DPOP_ALGORITHMS`` is empty (DPoP off)."""
    dpop_nonce: bool = False
    prefix: str = DEFAULT_PREFIX
    sections: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def configured(self) -> bool:
        return self.verifier is not None

    def name_of(self, setting: str) -> str:
        """The variable name of a setting under this configuration's prefix: ``ISSUER_URL`` ->
        ``OSCAL_AUTH_ISSUER_URL``."""
        return self.prefix + setting

    def section(self, name: str) -> dict[str, str]:
        """The raw ``<prefix><NAME>_*`` variables, e.g. ``section("demo")`` for ``OSCAL_AUTH_DEMO_*``."""
        start = self.name_of(_section_name(name) + "_")
        return {key: value for key, value in self.sections.items() if key.startswith(start)}

    @classmethod
    def from_environment(
        cls,
        *,
        prefix: str = DEFAULT_PREFIX,
        env_file: Path | None = Path(".env"),
        overrides: Mapping[str, str | None] | None = None,
        default_resource_url: str | None = None,
    ) -> AuthConfig:
        """Read the environment once (`read_environment`) and validate it."""
        values = read_environment(prefix, env_file=env_file, overrides=overrides)
        return cls.from_mapping(values, default_resource_url=default_resource_url, prefix=prefix)

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, str], *, default_resource_url: str | None = None, prefix: str = DEFAULT_PREFIX
    ) -> AuthConfig:
        """Validate the ``<prefix>*`` entries of `values` (a snapshot of the environment).

        The verifier defaults to ``jwt`` when an issuer is set; with neither an issuer nor a
        verifier, authentication is off. `default_resource_url` is used when
        ``<prefix>RESOURCE_SERVER_URL`` is unset (the caller derives it for loopback only).
        """
        own = {name: value for name, value in values.items() if name.startswith(prefix)}
        fields = load_section(AuthFields, own, prefix, forbid_unknown=False)
        top_level = {prefix + name.upper() for name in AuthFields.model_fields}
        config = cls(
            verifier=fields.verifier or ("jwt" if fields.issuer_url else None),
            issuer_url=fields.issuer_url[0] if fields.issuer_url else None,
            issuer_urls=fields.issuer_url,
            resource_server_url=fields.resource_server_url or default_resource_url,
            required_scopes=fields.required_scopes,
            leeway_seconds=fields.leeway_seconds,
            scope_implies=MappingProxyType(parse_implications(fields.scope_implies, setting=prefix + "SCOPE_IMPLIES")),
            cache_url=fields.cache_url,
            cache_secret=_cache_secret(fields, prefix),
            allow_insecure_http=fields.allow_insecure_http,
            dpop=_dpop_policy(fields, prefix),
            dpop_nonce=fields.dpop_nonce,
            prefix=prefix,
            sections=MappingProxyType({k: v for k, v in own.items() if k not in top_level}),
        )
        for issuer in config.issuer_urls:
            config.require_secure_url("ISSUER_URL", issuer)
        return config

    def require_secure_url(self, setting: str, url: str) -> None:
        """Refuse plain http to a host that is not loopback, unless ``ALLOW_INSECURE_HTTP``: a network
        attacker on that path could inject signing keys or introspection answers."""
        problem = insecure_http_problem(url, allowed=self.allow_insecure_http)
        if problem:
            raise ConfigurationError(
                f"{self.name_of(setting)}={url!r} {problem}; use https, or set "
                f"{self.name_of('ALLOW_INSECURE_HTTP')}=true on a network you trust"
            )


def _dpop_policy(fields: AuthFields, prefix: str) -> DPoPPolicy | None:
    if not fields.dpop_algorithms:
        needing = "DPOP_REQUIRED" if fields.dpop_required else "DPOP_NONCE" if fields.dpop_nonce else None
        if needing is not None:
            raise ConfigurationError(
                f"{prefix}{needing}=true needs DPoP, which is off: {prefix}DPOP_ALGORITHMS is empty"
            )
        return None
    return DPoPPolicy(
        algorithms=fields.dpop_algorithms,
        max_age_seconds=fields.dpop_max_age_seconds,
        leeway_seconds=fields.leeway_seconds,
        required=fields.dpop_required,
    )


def _section_name(name: str) -> str:
    return name.upper().replace("-", "_")


def _cache_secret(fields: AuthFields, prefix: str) -> bytes | None:
    """Exactly one of ``CACHE_SECRET`` / ``CACHE_SECRET_FILE``, at least 32 bytes, required with
    ``CACHE_URL``: the key that authenticates every value written to a shared cache."""
    secret_name, file_name = prefix + "CACHE_SECRET", prefix + "CACHE_SECRET_FILE"
    if fields.cache_secret is not None and fields.cache_secret_file is not None:
        raise ConfigurationError(f"set either {secret_name} or {file_name}, not both")
    secret: bytes | None = None
    if fields.cache_secret is not None:  # the same bytes either way: `secret_files`
        secret = secret_bytes(fields.cache_secret.get_secret_value(), secret_name)
    elif fields.cache_secret_file is not None:
        secret = read_secret_file(file_name, fields.cache_secret_file)
    if secret is None:
        if fields.cache_url is not None:
            raise ConfigurationError(
                f"{prefix}CACHE_URL needs {secret_name} (or {file_name}): at least "
                f"{MIN_CACHE_SECRET_BYTES} random bytes shared by the replicas, e.g. the output of "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return None
    if len(secret) < MIN_CACHE_SECRET_BYTES:
        source = file_name if fields.cache_secret_file is not None else secret_name
        raise ConfigurationError(f"{source} is too short; use at least {MIN_CACHE_SECRET_BYTES} random bytes")
    return secret


def backend_settings(config: AuthConfig, backend: str, model: type[ModelT]) -> ModelT:
    """Validate the ``<prefix><BACKEND>_*`` variables with a backend's (or plugin's) own model.

    Field ``jwks_uri`` of backend ``jwt`` is read from ``OSCAL_AUTH_JWT_JWKS_URI``. Unknown
    variables with the prefix are refused (a typo must not silently fall back to a default),
    except those of the selected verifier's longer section (``DEMO_HMAC_`` is not ``DEMO_``'s).
    Every validation error names the variable and never echoes a secret.
    """
    prefix = config.name_of(_section_name(backend) + "_")
    exclude: tuple[str, ...] = ()
    if config.verifier is not None and _section_name(config.verifier) != _section_name(backend):
        exclude = (config.name_of(_section_name(config.verifier) + "_"),)
    return load_section(model, config.sections, prefix, exclude=exclude, what=f"the {backend} settings")
