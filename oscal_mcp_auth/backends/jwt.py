"""``jwt``: JWT access tokens (RFC 9068) verified locally against the issuer's keys.

The road of one token, failing closed at every step:

1. structure: three segments of canonical, unpadded base64url (RFC 7515 section 2: one spelling
   per token, checked before the result cache; a JWE's five segments are refused), JSON header
   and claims (`oscal_mcp_auth.jws`);
2. header: ``alg`` among ``OSCAL_AUTH_JWT_ALGORITHMS`` (asymmetric only: ``none`` and HMAC are
   never accepted), no ``crit`` (RFC 7515 section 4.1.11: we understand no extension), ``typ``
   ``at+jwt`` when required; ``jku``, ``x5u`` and ``jwk`` are ignored: keys only ever come from
   the configured source;
3. issuer: the unverified ``iss`` must be one of the configured issuers, exactly; it only
   chooses whose keys to try (`oscal_mcp_auth.issuers`), and any other is refused before a key
   is looked up (``wrong_issuer``, no network call);
4. key: by ``kid`` and ``alg`` from that issuer's JWKS cache (or the configured PEM key); the
   JWK's ``kty``, ``alg`` and ``use`` must fit the header;
5. signature (python-jose, with key objects built once per key-set fetch);
6. claims, through the shared rules of `oscal_mcp_auth.claims` (RFC 9068 section 4, RFC 7519
   section 4.1): ``iss`` equals the chosen issuer; ``exp`` required and at most
   ``OSCAL_AUTH_JWT_MAX_LIFETIME_SECONDS`` away, ``nbf`` and ``iat`` checked, all with the
   configured leeway; ``aud`` contains an accepted audience (default: the resource server URL,
   RFC 8707; plain string comparison), or, for IdPs whose access tokens carry no ``aud`` (Amazon
   Cognito), the client id is in ``OSCAL_AUTH_JWT_ALLOWED_CLIENT_IDS``. A ``cnf`` (a DPoP-bound
   token) is handed on in the token's claims: the pipeline refuses it under Bearer
   (``bound_token``) and matches it with the DPoP proof's key (``claims.check_binding``).

Verified results are cached in process memory, keyed by SHA-256 of the token, until
``min(exp, cache TTL)``, and dropped when the key that signed them leaves the key set, so a client
reusing its token pays a lookup. (This cache is never shared: only the JWKS goes to Redis.)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from jose.exceptions import JOSEError
from mcp.server.auth.provider import AccessToken
from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from oscal_mcp_auth import claims as rules
from oscal_mcp_auth import jws
from oscal_mcp_auth.cache import MemoryCache, SharedStore, cache_key, shared_store
from oscal_mcp_auth.discovery import EndpointResolver
from oscal_mcp_auth.errors import ConfigurationError, TokenRejected
from oscal_mcp_auth.http import FetchError, new_client
from oscal_mcp_auth.issuers import IssuerKeys, Issuers
from oscal_mcp_auth.jwks import ASYMMETRIC_ALGORITHMS, JwksCache, KeySet, KeysExpired, SigningKey, key_set_from_pem
from oscal_mcp_auth.logsafe import shown
from oscal_mcp_auth.secret_files import check_permissions
from oscal_mcp_auth.sections import Section, comma_list
from oscal_mcp_auth.settings import AuthConfig, backend_settings
from oscal_mcp_auth.telemetry.relay import current_telemetry
from oscal_mcp_auth.urls import url_problem

logger = logging.getLogger("oscal_mcp_auth")

AT_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})
DEFAULT_CLIENT_ID_CLAIMS = ("client_id", "azp", "cid")
DEFAULT_SCOPE_CLAIMS = ("scope", "scp")


class JwtSettings(Section):
    """``OSCAL_AUTH_JWT_*``: validated at start-up."""

    model_config = SettingsConfigDict(env_prefix="OSCAL_AUTH_JWT_")  # names it for `oscal-mcp settings`

    jwks_uri: str | None = None
    public_key: str | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    audience: tuple[str, ...] | None = None
    allowed_client_ids: tuple[str, ...] = ()
    require_typ: bool = False
    scope_claim: str | None = None
    client_id_claim: str | None = None
    jwks_cache_seconds: float = Field(default=300, ge=1, le=86_400)
    jwks_min_refresh_seconds: float = Field(default=30, ge=1, le=3_600)  # the flood guard: never 0
    jwks_max_stale_seconds: float = Field(default=86_400, ge=0, le=30 * 86_400)
    timeout_seconds: float = Field(default=5, gt=0, le=60)
    max_response_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_lifetime_seconds: float = Field(default=86_400, ge=0, le=365 * 86_400)
    result_cache_seconds: float = Field(default=300, ge=0, le=86_400)
    result_cache_max_entries: int = Field(default=10_000, ge=1, le=10_000_000)

    @field_validator("algorithms", "audience", "allowed_client_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return comma_list(value)

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        refused = [alg for alg in value if alg not in ASYMMETRIC_ALGORITHMS]
        if refused or not value:
            raise ValueError(
                f"{', '.join(refused) or 'an empty list'} is not accepted; use asymmetric algorithms from: "
                + ", ".join(ASYMMETRIC_ALGORITHMS)
            )
        return value

    @field_validator("jwks_uri")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        problem = None if value is None else url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> JwtSettings:
        if self.jwks_uri and self.public_key:
            raise ValueError("set either OSCAL_AUTH_JWT_JWKS_URI or OSCAL_AUTH_JWT_PUBLIC_KEY, not both")
        return self


class JwtVerifier:
    """`keys`: the issuers, each with its key source (`oscal_mcp_auth.issuers`), or the one key
    source of the only configured issuer."""

    canonical_tokens = True
    """The ``token`` of every ``AccessToken`` returned is the token's one spelling, the low-S one
    of an ECDSA twin (`jws.canonical_spelling`): hooks keyed on it see both twins as one."""

    def __init__(self, config: AuthConfig, settings: JwtSettings, keys: Issuers | JwksCache | KeySet) -> None:
        if config.issuer_url is None:
            raise _missing_issuer(config)
        self._issuers = keys if isinstance(keys, Issuers) else Issuers([IssuerKeys(config.issuer_url, keys)])
        self._resource = config.resource_server_url
        self._leeway = config.leeway_seconds
        self._settings = settings
        self._audiences = _accepted_audiences(config, settings)
        self._client_ids = frozenset(settings.allowed_client_ids)
        self._client_id_claims = (settings.client_id_claim,) if settings.client_id_claim else DEFAULT_CLIENT_ID_CLAIMS
        self._scope_claims = (settings.scope_claim,) if settings.scope_claim else DEFAULT_SCOPE_CLAIMS
        # a verified result, with its issuer and the kid of the key that signed it
        self._results: MemoryCache[tuple[AccessToken, str, str | None]] = MemoryCache(settings.result_cache_max_entries)
        self._telemetry = current_telemetry()

    async def verify_token(self, token: str) -> AccessToken:
        # The cache is keyed by the exact string and holds only tokens this process accepted, which
        # passed the one-spelling check (RFC 7515 section 2): a hit needs no second check, and any
        # other spelling of the same token misses and is refused below.
        key = cache_key(token)
        cached = self._results.get_now(key)
        self._telemetry.cache_lookup("local", cached is not None)
        if cached is None or not self._signer_still_trusted(cached[1], cached[2]):
            segments = jws.check_compact(token)
            cached = await self._verify(token, segments)  # the entry is this token's own (keyed by its hash)
            ttl = min(self._settings.result_cache_seconds, (cached[0].expires_at or 0) - time.time())
            self._results.set_now(key, cached, ttl)
        return cached[0]

    def _signer_still_trusted(self, issuer: str, kid: str | None) -> bool:
        selected = self._issuers.select(issuer)
        return selected is not None and selected.still_trusts(kid)

    async def _verify(self, token: str, segments: list[str]) -> tuple[AccessToken, str, str | None]:
        parsed = jws.decode(segments)
        alg = self._check_header(parsed.header)
        ids = _ids(parsed.header, parsed.claims)
        issuer = self._select_issuer(parsed.claims, ids)
        kid = parsed.header.get("kid") if isinstance(parsed.header.get("kid"), str) else None
        signing_key = await self._find_key(issuer, kid, alg)
        if not _signature_matches(signing_key, parsed.signing_input, parsed.signature):
            raise TokenRejected("bad_signature", ids)
        canonical = jws.canonical(token, segments, alg, parsed.signature)  # an ECDSA twin is one token
        try:
            return self._check_claims(canonical, parsed.claims, ids, issuer.issuer), issuer.issuer, signing_key.kid
        except rules.MalformedClaim as malformed:
            raise TokenRejected("bad_claim", f"{malformed}; {ids}") from None

    def _select_issuer(self, claims: dict[str, Any], ids: str) -> IssuerKeys:
        """The issuer whose keys may verify the token. The unverified ``iss`` only chooses; an
        unlisted one is refused before any key lookup, so it never causes a fetch."""
        try:
            issuer = self._issuers.select(rules.string(claims, "iss"))
        except rules.MalformedClaim as malformed:
            raise TokenRejected("bad_claim", f"{malformed}; {ids}") from None
        if issuer is None:
            raise TokenRejected("wrong_issuer", ids)
        return issuer

    def _check_header(self, header: dict[str, Any]) -> str:
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._settings.algorithms:
            raise TokenRejected("bad_algorithm", f"alg={shown(alg, 24)} {_ids(header, {})}")
        if "crit" in header:
            raise TokenRejected("unsupported_crit", _ids(header, {}))
        if self._settings.require_typ and str(header.get("typ", "")).lower() not in AT_JWT_TYPES:
            raise TokenRejected("bad_typ", _ids(header, {}))
        return alg

    async def _find_key(self, issuer: IssuerKeys, kid: str | None, alg: str) -> SigningKey:
        try:
            found = await issuer.find(kid, alg)
        except KeysExpired as exc:
            raise TokenRejected("keys_unavailable", exc.detail) from None
        except FetchError as exc:
            raise TokenRejected("jwks_unavailable", exc.reason) from None
        if found is None:
            raise TokenRejected("unknown_key", f"kid={shown(kid, 64)} alg={alg}")
        return found

    def _check_claims(self, token: str, claims: dict[str, Any], ids: str, issuer: str) -> AccessToken:
        """RFC 9068 section 4 and RFC 7519 section 4.1, through the shared `claims` rules."""
        reason = rules.check_issuer(rules.string(claims, "iss"), issuer, required=True) or rules.check_times(
            claims, time.time(), self._leeway, exp_required=True, max_lifetime=self._settings.max_lifetime_seconds
        )
        client_id = rules.client_id(claims, self._client_id_claims)
        reason = reason or self._audience_reason(claims, client_id)
        if reason:
            raise TokenRejected(reason, ids)
        exp = rules.numeric(claims, "exp")
        subject = claims.get("sub")
        return AccessToken(
            token=token,
            client_id=client_id or "",
            scopes=rules.scopes(claims, self._scope_claims),
            expires_at=None if exp is None else int(exp),
            resource=self._resource,
            subject=subject if isinstance(subject, str) else None,
            claims={name: claims[name] for name in ("iss", "aud", "jti", "azp", "cnf") if name in claims},
        )

    def _audience_reason(self, claims: dict[str, Any], client_id: str | None) -> str | None:
        """RFC 8707: ``aud`` names this server; for IdPs without ``aud`` in access tokens the
        client id must be allowed instead (and is checked whenever an allow-list is set)."""
        if self._client_ids and client_id not in self._client_ids:
            return "wrong_client"
        return rules.check_audience(rules.audiences(claims), self._audiences, required=not self._client_ids)

    async def ready(self) -> str | None:
        """Readiness: None when every issuer's keys are loaded or fetchable within their staleness bound."""
        return await self._issuers.ready()

    async def aclose(self) -> None:
        await self._issuers.aclose()


def _missing_issuer(config: AuthConfig) -> ConfigurationError:
    return ConfigurationError(f"the jwt verifier needs {config.name_of('ISSUER_URL')} (tokens' iss must equal it)")


def _accepted_audiences(config: AuthConfig, settings: JwtSettings) -> frozenset[str]:
    resource = config.resource_server_url
    audiences = settings.audience if settings.audience is not None else ((resource,) if resource else ())
    if not audiences and not settings.allowed_client_ids:
        raise ConfigurationError(
            "the jwt verifier has no way to tell that a token is meant for this server: set "
            f"{config.name_of('JWT_AUDIENCE')} (the aud your IdP puts in access tokens, default the resource "
            "server URL) or, for IdPs without aud in access tokens (Amazon Cognito), "
            f"{config.name_of('JWT_ALLOWED_CLIENT_IDS')}"
        )
    return rules.accepted_audiences(audiences)


def _signature_matches(signing_key: SigningKey, signing_input: bytes, signature: bytes) -> bool:
    try:
        return bool(signing_key.key.verify(signing_input, signature))
    except (JOSEError, ValueError, TypeError):
        return False


def _ids(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """The kid and jti of a token for log lines (escaped, bounded, never the token)."""
    return f"kid={shown(header.get('kid'), 64)} jti={shown(claims.get('jti'), 64)}"


def _pem_text(value: str, setting: str) -> str:
    if "-----BEGIN" in value:
        return value
    path = Path(value).expanduser()
    check_permissions(setting, path, confidential=False)  # whoever writes it chooses the trusted key
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"{setting} is neither PEM text nor a readable file ({path}: {exc.strerror})"
        ) from None


def create_verifier(config: AuthConfig) -> JwtVerifier:
    settings = backend_settings(config, "jwt", JwtSettings)
    if config.issuer_url is None:
        raise _missing_issuer(config)
    if len(config.issuer_urls) > 1:
        return JwtVerifier(config, settings, _several_issuers(config, settings))
    if settings.public_key:
        setting = config.name_of("JWT_PUBLIC_KEY")
        pem = _pem_text(settings.public_key, setting)
        try:
            keys = key_set_from_pem(pem, settings.algorithms)
        except ValueError as exc:
            raise ConfigurationError(f"{setting}: {exc}") from None
        return JwtVerifier(config, settings, keys)
    if settings.jwks_uri:
        config.require_secure_url("JWT_JWKS_URI", settings.jwks_uri)
    return JwtVerifier(config, settings, _jwks_cache(config, config.issuer_url, settings))


def _several_issuers(config: AuthConfig, settings: JwtSettings) -> Issuers:
    """One discovery and one JWKS cache per issuer (`oscal_mcp_auth.issuers`)."""
    for setting, value in (("JWT_JWKS_URI", settings.jwks_uri), ("JWT_PUBLIC_KEY", settings.public_key)):
        if value:
            name = config.name_of(setting)
            raise ConfigurationError(
                f"{name} is one key source, and only works with one issuer; {config.name_of('ISSUER_URL')} lists "
                f"{len(config.issuer_urls)}: unset {name} (each issuer's keys are found through its metadata)"
            )
    return Issuers(IssuerKeys(issuer, _jwks_cache(config, issuer, settings)) for issuer in config.issuer_urls)


def _jwks_cache(config: AuthConfig, issuer: str, settings: JwtSettings) -> JwksCache:
    client = new_client(settings.timeout_seconds)
    resolver = EndpointResolver(
        client,
        issuer,
        "jwks_uri",
        configured=settings.jwks_uri,
        allow_insecure_http=config.allow_insecure_http,
        max_bytes=settings.max_response_bytes,
        total_timeout=settings.timeout_seconds,
        hint=f"set {config.name_of('JWT_JWKS_URI')}",
        label="signing keys (jwks_uri)",
    )
    return JwksCache(
        client,
        resolver.resolve,
        allowed_algorithms=settings.algorithms,
        cache_seconds=settings.jwks_cache_seconds,
        min_refresh_seconds=settings.jwks_min_refresh_seconds,
        max_stale_seconds=settings.jwks_max_stale_seconds,
        timeout_seconds=settings.timeout_seconds,
        max_bytes=settings.max_response_bytes,
        # per issuer: every issuer's key set is published under a key of its own
        shared=_shared_jwks(config, issuer, settings),
        issuer=issuer,
    )


def _shared_jwks(config: AuthConfig, issuer: str, settings: JwtSettings) -> SharedStore | None:
    """Per issuer: every issuer's key set is published under a key of its own."""
    if config.cache_url is None:
        return None
    names = (f"the issuer {issuer}", config.name_of("JWT_JWKS_URI"))
    return shared_store(config, "jwks", policy=f"{issuer}|{settings.jwks_uri}", policy_settings=names)
