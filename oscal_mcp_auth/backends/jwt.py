"""``jwt``: JWT access tokens (RFC 9068) verified locally against the issuer's keys.

The road of one token, failing closed at every step:

1. structure: three base64url segments (a JWE's five are refused), JSON header and claims;
2. header: ``alg`` among ``OSCAL_AUTH_JWT_ALGORITHMS`` (asymmetric only: ``none`` and HMAC are
   never accepted), no ``crit`` (RFC 7515 section 4.1.11: we understand no extension), ``typ``
   ``at+jwt`` when required; ``jku``, ``x5u`` and ``jwk`` are ignored: keys only ever come from
   the configured source;
3. key: by ``kid`` and ``alg`` from the JWKS cache (or the configured PEM key); the JWK's
   ``kty``, ``alg`` and ``use`` must fit the header;
4. signature (python-jose, with key objects built once per key-set fetch);
5. claims (RFC 9068 section 4, RFC 7519 section 4.1): ``iss`` equals the issuer; ``exp``
   required and at most ``OSCAL_AUTH_JWT_MAX_LIFETIME_SECONDS`` away, ``nbf`` and ``iat`` checked,
   all with the configured leeway; ``aud`` contains an
   accepted audience (default: the resource server URL, RFC 8707), or, for IdPs whose access
   tokens carry no ``aud`` (Amazon Cognito), the client id is in ``OSCAL_AUTH_JWT_ALLOWED_CLIENT_IDS``.

Verified results are cached in process memory, keyed by SHA-256 of the token, until
``min(exp, cache TTL)``, and dropped when the key that signed them leaves the key set, so a client
reusing its token pays a lookup. (This cache is never shared: only the JWKS goes to Redis.)
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from jose.exceptions import JOSEError
from mcp.server.auth.provider import AccessToken
from pydantic import BaseModel, Field, field_validator, model_validator

from oscal_mcp_auth.cache import MemoryCache, cache_key, shared_store
from oscal_mcp_auth.config import AuthConfig, backend_settings, canonical_resource, parse_list, validate_http_url
from oscal_mcp_auth.discovery import fetch_metadata
from oscal_mcp_auth.errors import ConfigurationError, TokenRejected
from oscal_mcp_auth.http import FetchError, new_client, warn_if_cleartext
from oscal_mcp_auth.jwks import ASYMMETRIC_ALGORITHMS, JwksCache, KeySet, KeysExpired, SigningKey, key_set_from_pem
from oscal_mcp_auth.scopes import split_scopes

logger = logging.getLogger("oscal_mcp_auth")

AT_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})
DEFAULT_CLIENT_ID_CLAIMS = ("client_id", "azp", "cid")
DEFAULT_SCOPE_CLAIMS = ("scope", "scp")


class JwtSettings(BaseModel):
    """``OSCAL_AUTH_JWT_*``: validated at start-up."""

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
        return parse_list(value) if isinstance(value, str) else value

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
        if value is None or not value.strip():
            return None
        return validate_http_url("OSCAL_AUTH_JWT_JWKS_URI", value)

    @model_validator(mode="after")
    def _one_key_source(self) -> JwtSettings:
        if self.jwks_uri and self.public_key:
            raise ValueError("set either OSCAL_AUTH_JWT_JWKS_URI or OSCAL_AUTH_JWT_PUBLIC_KEY, not both")
        return self


class JwtVerifier:
    def __init__(self, config: AuthConfig, settings: JwtSettings, keys: JwksCache | KeySet) -> None:
        if config.issuer_url is None:
            raise ConfigurationError("the jwt verifier needs OSCAL_AUTH_ISSUER_URL (tokens' iss must equal it)")
        self._issuer = config.issuer_url
        self._resource = config.resource_server_url
        self._leeway = config.leeway_seconds
        self._settings = settings
        self._keys = keys
        self._audiences = _accepted_audiences(settings, config.resource_server_url)
        self._client_ids = frozenset(settings.allowed_client_ids)
        self._results: MemoryCache[tuple[AccessToken, str | None]] = MemoryCache(settings.result_cache_max_entries)

    async def verify_token(self, token: str) -> AccessToken:
        key = cache_key(token)
        cached = self._results.get_now(key)
        if cached is None or not self._signer_still_trusted(cached[1]):
            cached = await self._verify(token)  # the entry is this token's own (keyed by its hash)
            ttl = min(self._settings.result_cache_seconds, (cached[0].expires_at or 0) - time.time())
            self._results.set_now(key, cached, ttl)
        return cached[0]

    def _signer_still_trusted(self, kid: str | None) -> bool:
        keys = self._keys.current if isinstance(self._keys, JwksCache) else self._keys
        return keys is not None and kid in keys.kids

    async def _verify(self, token: str) -> tuple[AccessToken, str | None]:
        header, claims, signing_input, signature = _split(token)
        alg = self._check_header(header)
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        signing_key = await self._find_key(kid, alg)
        if not _signature_matches(signing_key, signing_input, signature):
            raise TokenRejected("bad_signature", _ids(header, claims))
        return self._check_claims(token, claims, header), signing_key.kid

    def _check_header(self, header: dict[str, Any]) -> str:
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._settings.algorithms:
            raise TokenRejected("bad_algorithm", f"alg={str(alg)[:20]!r} {_ids(header, {})}")
        if "crit" in header:
            raise TokenRejected("unsupported_crit", _ids(header, {}))
        if self._settings.require_typ and str(header.get("typ", "")).lower() not in AT_JWT_TYPES:
            raise TokenRejected("bad_typ", _ids(header, {}))
        return alg

    async def _find_key(self, kid: str | None, alg: str) -> SigningKey:
        if isinstance(self._keys, KeySet):  # a fixed key set; a PEM key has no kid and fits any
            found = self._keys.find(kid, alg) or self._keys.find(None, alg)
        else:
            try:
                found = await self._keys.find(kid, alg)
            except KeysExpired as exc:
                raise TokenRejected("keys_unavailable", exc.detail) from None
            except FetchError as exc:
                raise TokenRejected("jwks_unavailable", exc.reason) from None
        if found is None:
            raise TokenRejected("unknown_key", f"kid={str(kid)[:64]!r} alg={alg}")
        return found

    def _check_claims(self, token: str, claims: dict[str, Any], header: dict[str, Any]) -> AccessToken:
        ids = _ids(header, claims)
        now = time.time()
        if claims.get("iss") != self._issuer:
            raise TokenRejected("wrong_issuer", ids)
        exp = _numeric(claims, "exp", ids, required=True)
        assert exp is not None
        if now > exp + self._leeway:
            raise TokenRejected("expired", ids)
        if self._settings.max_lifetime_seconds and exp - now > self._settings.max_lifetime_seconds + self._leeway:
            raise TokenRejected("lifetime_too_long", ids)
        nbf = _numeric(claims, "nbf", ids)
        if nbf is not None and now + self._leeway < nbf:
            raise TokenRejected("not_yet_valid", ids)
        iat = _numeric(claims, "iat", ids)
        if iat is not None and now + self._leeway < iat:
            raise TokenRejected("issued_in_future", ids)
        client_id = self._client_id(claims)
        self._check_audience(claims, client_id, ids)
        subject = claims.get("sub")
        return AccessToken(
            token=token,
            client_id=client_id or "",
            scopes=self._scopes(claims, ids),
            expires_at=int(exp),
            resource=self._resource,
            subject=subject if isinstance(subject, str) else None,
            claims={name: claims[name] for name in ("iss", "aud", "jti", "azp") if name in claims},
        )

    def _check_audience(self, claims: dict[str, Any], client_id: str | None, ids: str) -> None:
        if self._client_ids and client_id not in self._client_ids:
            raise TokenRejected("wrong_client", ids)
        aud = claims.get("aud")
        if aud is None:
            if not self._client_ids:
                raise TokenRejected("no_audience", ids)
            return
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise TokenRejected("bad_claim", f"aud is not a string or a list of strings; {ids}")
        if not any(canonical_resource(a) in self._audiences for a in audiences):
            raise TokenRejected("wrong_audience", ids)

    def _client_id(self, claims: dict[str, Any]) -> str | None:
        names = (self._settings.client_id_claim,) if self._settings.client_id_claim else DEFAULT_CLIENT_ID_CLAIMS
        for name in names:
            value = claims.get(name)
            if isinstance(value, str) and value:
                return value
        return None

    def _scopes(self, claims: dict[str, Any], ids: str) -> list[str]:
        names = (self._settings.scope_claim,) if self._settings.scope_claim else DEFAULT_SCOPE_CLAIMS
        for name in names:
            value = claims.get(name)
            if value is None:
                continue
            if isinstance(value, str):
                return split_scopes(value)
            if isinstance(value, list) and all(isinstance(s, str) for s in value):
                return list(value)
            raise TokenRejected("bad_claim", f"{name} is neither a string nor a list of strings; {ids}")
        return []

    async def aclose(self) -> None:
        if isinstance(self._keys, JwksCache):
            await self._keys.aclose()


def _accepted_audiences(settings: JwtSettings, resource: str | None) -> frozenset[str]:
    audiences = settings.audience if settings.audience is not None else ((resource,) if resource else ())
    if not audiences and not settings.allowed_client_ids:
        raise ConfigurationError(
            "the jwt verifier has no way to tell that a token is meant for this server: set "
            "OSCAL_AUTH_JWT_AUDIENCE (the aud your IdP puts in access tokens, default the resource "
            "server URL) or, for IdPs without aud in access tokens (Amazon Cognito), "
            "OSCAL_AUTH_JWT_ALLOWED_CLIENT_IDS"
        )
    return frozenset(canonical_resource(a) for a in audiences)


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    segments = token.split(".")
    if len(segments) != 3:
        reason = "encrypted_token" if len(segments) == 5 else "malformed_token"
        raise TokenRejected(reason, f"{len(segments)} segments")
    try:
        header = json.loads(_b64decode(segments[0]))
        claims = json.loads(_b64decode(segments[1]))
        signature = _b64decode(segments[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise TokenRejected("malformed_token", "a segment is not base64url JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenRejected("malformed_token", "header or claims is not a JSON object")
    return header, claims, f"{segments[0]}.{segments[1]}".encode(), signature


def _signature_matches(signing_key: SigningKey, signing_input: bytes, signature: bytes) -> bool:
    try:
        return bool(signing_key.key.verify(signing_input, signature))
    except (JOSEError, ValueError, TypeError):
        return False


def _numeric(claims: dict[str, Any], name: str, ids: str, *, required: bool = False) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise TokenRejected("missing_claim", f"{name} is required; {ids}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenRejected("bad_claim", f"{name} is not a finite number; {ids}")
    return float(value)


def _ids(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """The jti and kid of a token for log lines (bounded, never the token)."""
    return f"kid={str(header.get('kid'))[:64]!r} jti={str(claims.get('jti'))[:64]!r}"


def _pem_text(value: str) -> str:
    if "-----BEGIN" in value:
        return value
    path = Path(value).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"OSCAL_AUTH_JWT_PUBLIC_KEY is neither PEM text nor a readable file ({path}: {exc.strerror})"
        ) from None


def create_verifier(config: AuthConfig) -> JwtVerifier:
    settings = backend_settings(config, "jwt", JwtSettings)
    if config.issuer_url is None:
        raise ConfigurationError("the jwt verifier needs OSCAL_AUTH_ISSUER_URL (tokens' iss must equal it)")
    if settings.public_key:
        try:
            return JwtVerifier(config, settings, key_set_from_pem(_pem_text(settings.public_key), settings.algorithms))
        except ValueError as exc:
            raise ConfigurationError(f"OSCAL_AUTH_JWT_PUBLIC_KEY: {exc}") from None
    warn_if_cleartext("the issuer", config.issuer_url, "metadata and signing keys")
    if settings.jwks_uri:
        warn_if_cleartext("OSCAL_AUTH_JWT_JWKS_URI", settings.jwks_uri, "signing keys")
    return JwtVerifier(config, settings, _jwks_cache(config, config.issuer_url, settings))


def _jwks_cache(config: AuthConfig, issuer: str, settings: JwtSettings) -> JwksCache:
    client = new_client(settings.timeout_seconds)
    discovered: list[str] = []

    async def resolve_uri() -> str:
        if settings.jwks_uri:
            return settings.jwks_uri
        if discovered:
            return discovered[0]
        metadata = await fetch_metadata(
            client, issuer, max_bytes=settings.max_response_bytes, total_timeout=settings.timeout_seconds
        )
        uri = metadata.get("jwks_uri")
        if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
            raise FetchError("no_jwks_uri", "the issuer's metadata has no jwks_uri")
        warn_if_cleartext("the discovered jwks_uri", uri, "signing keys")
        discovered.append(uri)
        return uri

    return JwksCache(
        client,
        resolve_uri,
        allowed_algorithms=settings.algorithms,
        cache_seconds=settings.jwks_cache_seconds,
        min_refresh_seconds=settings.jwks_min_refresh_seconds,
        max_stale_seconds=settings.jwks_max_stale_seconds,
        timeout_seconds=settings.timeout_seconds,
        max_bytes=settings.max_response_bytes,
        shared=shared_store(config, "jwks", policy=f"{settings.jwks_uri}") if config.cache_url else None,
    )
