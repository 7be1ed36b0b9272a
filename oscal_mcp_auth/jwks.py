"""The JWKS cache: signing keys from the Authorization Server, fetched lazily and kept fresh.

Behaviour (Spring Security's resource server is the model):

- fetched on first use; concurrent first requests share one fetch (single-flight);
- fresh for ``cache_seconds``, or for the response's ``Cache-Control: max-age`` clamped into
  ``[min_refresh_seconds, cache_seconds]``;
- a token naming an unknown ``kid`` triggers a refresh, at most once every
  ``min_refresh_seconds``, so a flood of forged kids cannot hammer the AS;
- when a refresh fails, the last good key set keeps serving (stale-on-error) and the failure is
  logged; the next attempt waits ``min_refresh_seconds``. With no key set at all it fails closed;
- stale keys expire: once the key set is ``max_stale_seconds`` old without a successful refresh,
  it is dropped and tokens are refused (`KeysExpired`, reason ``keys_unavailable``) until a fetch
  succeeds, so keys the AS removed are not trusted forever while its JWKS endpoint fails. Stale
  serving logs a WARNING when it starts and when it stops;
- with a shared store (Redis, ``OSCAL_AUTH_CACHE_URL``), a key set fetched by one replica is
  published for the others, so N replicas ask the AS once; a replica that meets an unknown kid
  takes the published set if it has the kid, and asks the AS otherwise.

Key objects are built once per fetch, never per request, always as python-jose's
``cryptography``-backed classes, named explicitly: python-jose falls back to the pure-Python
``ecdsa`` package (CVE-2024-23342, a timing side channel) only where ``cryptography`` is
missing, and here it is a required dependency, so no signature is ever checked by ``ecdsa``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jose.backends.base import Key
from jose.backends.cryptography_backend import CryptographyECKey, CryptographyRSAKey

from oscal_mcp_auth.cache import SharedStore, SingleFlight
from oscal_mcp_auth.http import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_SECONDS, FetchError, request_json
from oscal_mcp_auth.telemetry.relay import current_telemetry

logger = logging.getLogger("oscal_mcp_auth")

RSA_ALGORITHMS = ("RS256", "RS384", "RS512")  # python-jose 3.5 cannot verify PS256/384/512
EC_ALGORITHMS_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
ASYMMETRIC_ALGORITHMS = (*RSA_ALGORITHMS, *EC_ALGORITHMS_BY_CURVE.values())
_ES_ALGORITHMS_BY_CURVE_NAME = {
    "secp256r1": ("ES256",),
    "secp384r1": ("ES384",),
    "secp521r1": ("ES512",),
}  # RFC 7518 3.4
_ANY_KID = object()
_SHARED_KEY = "document"
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
# RFC 9111 section 1.2.2: a delta-seconds too large to represent is taken as 2^31
MAX_DELTA_SECONDS = 2**31


class KeysExpired(FetchError):
    """The last good key set grew older than ``max_stale_seconds`` and was dropped."""

    def __init__(self, detail: str) -> None:
        super().__init__("keys_unavailable", detail)


@dataclass(frozen=True)
class SigningKey:
    kid: str | None
    alg: str
    key: Key


class KeySet:
    """Verification keys indexed by (kid, alg); built once from a JWKS document."""

    def __init__(self, keys: list[SigningKey]) -> None:
        self._by_kid_alg = {(k.kid, k.alg): k for k in keys}
        self.kids = frozenset(k.kid for k in keys)

    def __len__(self) -> int:
        return len(self._by_kid_alg)

    def find(self, kid: str | None, alg: str) -> SigningKey | None:
        return self._by_kid_alg.get((kid, alg))

    @classmethod
    def from_jwks(cls, document: Any, allowed_algorithms: tuple[str, ...]) -> KeySet:
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise FetchError("bad_jwks", 'the JWKS document has no "keys" list')
        keys = [key for entry in document["keys"] for key in _signing_keys(entry, allowed_algorithms)]
        return cls(keys)


def _signing_keys(entry: Any, allowed: tuple[str, ...]) -> list[SigningKey]:
    """The verification keys one JWK yields; unusable entries are skipped with a log line."""
    if not isinstance(entry, Mapping) or entry.get("use", "sig") != "sig":
        return []
    kid = entry.get("kid") if isinstance(entry.get("kid"), str) else None
    keys: list[SigningKey] = []
    for alg in _algorithms_for(entry, allowed):
        try:
            keys.append(SigningKey(kid, alg, cryptography_key(dict(entry), alg)))
        except Exception as exc:
            logger.warning("JWKS key kid=%s alg=%s skipped: %s", kid, alg, type(exc).__name__)
    return keys


def cryptography_key(data: Mapping[str, Any] | str, alg: str) -> Key:
    """The verification key for `alg` (RS* or ES*) from a JWK or PEM, checked by ``cryptography``."""
    key_class = CryptographyRSAKey if alg in RSA_ALGORITHMS else CryptographyECKey
    key: Key = key_class(data, alg)
    return key


def _algorithms_for(entry: Mapping[str, Any], allowed: tuple[str, ...]) -> list[str]:
    """Algorithms a JWK may verify: its declared ``alg``, else every allowed one its type fits."""
    kty = entry.get("kty")
    if kty == "RSA":
        fitting: tuple[str, ...] = RSA_ALGORITHMS
    elif kty == "EC":
        curve_alg = EC_ALGORITHMS_BY_CURVE.get(str(entry.get("crv")))
        fitting = (curve_alg,) if curve_alg else ()
    else:
        return []  # "oct" (HMAC) and unknown key types never verify access tokens here
    declared = entry.get("alg")
    if declared is not None:
        fitting = tuple(a for a in fitting if a == declared)
    return [alg for alg in fitting if alg in allowed]


def key_set_from_pem(pem: str, allowed_algorithms: tuple[str, ...]) -> KeySet:
    """A one-key set from a PEM public key, matching any ``kid``-less or ``kid``-bearing token.

    Keys are built only for the allowed algorithms the key's type fits (RS* for RSA, the curve's
    ES* for EC): python-jose itself builds a key of either class from any PEM.
    """
    keys = [
        SigningKey(None, alg, cryptography_key(pem, alg)) for alg in _pem_algorithms(pem) if alg in allowed_algorithms
    ]
    if not keys:
        raise ValueError("the public key fits none of the allowed algorithms")
    return KeySet(keys)


def _pem_algorithms(pem: str) -> tuple[str, ...]:
    """The algorithms a PEM public key's type can verify, none for text that is no such key."""
    try:
        public_key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return ()
    if isinstance(public_key, rsa.RSAPublicKey):
        return RSA_ALGORITHMS
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return _ES_ALGORITHMS_BY_CURVE_NAME.get(public_key.curve.name, ())
    return ()


def max_age(headers: httpx.Headers) -> int | None:
    """``Cache-Control: max-age`` in seconds, at most `MAX_DELTA_SECONDS` however many digits it has."""
    match = _MAX_AGE.search(headers.get("cache-control", ""))
    if match is None:
        return None
    digits = match.group(1).lstrip("0")
    if len(digits) > len(str(MAX_DELTA_SECONDS)):  # int() of thousands of digits raises ValueError
        return MAX_DELTA_SECONDS
    return min(int(digits or "0"), MAX_DELTA_SECONDS)


class JwksCache:
    """Keys from a JWKS URI (resolved lazily, e.g. through discovery), with the behaviour above."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        resolve_uri: Callable[[], Awaitable[str]],
        *,
        allowed_algorithms: tuple[str, ...],
        cache_seconds: float = 300,
        min_refresh_seconds: float = 30,
        max_stale_seconds: float = 86_400,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedStore | None = None,
        issuer: str | None = None,
    ) -> None:
        self._client = client
        self._issuer = issuer or ""
        self._telemetry = current_telemetry()
        self._last_failure: str | None = None  # the reason word of the latest failed fetch
        self._of = f" [issuer {issuer}]" if issuer else ""  # which key set a log line is about
        self._shared = shared
        self._resolve_uri = resolve_uri
        self._allowed = allowed_algorithms
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._max_stale = max_stale_seconds
        self._timeout = timeout_seconds
        self._max_bytes = max_bytes
        self._clock = clock
        self._keys: KeySet | None = None
        self._fresh_until = 0.0
        self._refreshed_at = 0.0  # when the key set was last fetched successfully
        self._stale_since: float | None = None  # when serving a stale key set began
        self._dropped = False  # the key set expired (max_stale_seconds) and nothing replaced it
        self._next_attempt = 0.0  # no fetch before this moment (cool-down after a fetch)
        self._flight: SingleFlight[KeySet | None] = SingleFlight()

    @property
    def current(self) -> KeySet | None:
        """The key set in use; None before the first fetch and once it is past `max_stale_seconds`."""
        return None if self._keys is None or self._too_old() else self._keys

    async def ready(self) -> str | None:
        """None while a key set is usable (fresh, or stale within ``max_stale_seconds``) or can be
        fetched now; else the reason word. A readiness probe calls it: the fetch it may start
        keeps the cool-down, so probes cannot hammer the AS."""
        if self.current is not None:
            return None
        try:
            await self._usable_keys()
        except FetchError as exc:
            return exc.reason
        return None

    async def find(self, kid: str | None, alg: str) -> SigningKey | None:
        """The key for (kid, alg), refreshing when stale or when the kid is unknown (rate-limited).

        Raises `FetchError` only when no key set has ever been fetched (cold start failing).
        """
        keys = await self._usable_keys()
        found = keys.find(kid, alg)
        if found is None and kid not in keys.kids and self._may_fetch():
            refreshed = await self._flight.run("jwks", lambda: self._fetch(wanted_kid=kid))
            found = refreshed.find(kid, alg) if refreshed is not None else None
        return found

    async def _usable_keys(self) -> KeySet:
        if self._keys is not None and self._clock() < self._fresh_until:
            return self._keys
        if self._may_fetch():
            await self._flight.run("jwks", self._fetch)
        self._drop_if_too_old()
        if self._keys is None:
            if self._dropped:
                raise KeysExpired(f"no successful JWKS refresh for over {self._max_stale:g} s")
            raise FetchError("jwks_unavailable", "no signing keys have been fetched yet")
        return self._keys

    def _too_old(self) -> bool:
        now = self._clock()
        return now >= self._fresh_until and now - self._refreshed_at > self._max_stale

    def _drop_if_too_old(self) -> None:
        if self._keys is not None and self._too_old():
            logger.warning(
                "JWKS: no successful refresh for over %g s; stale serving stopped, the last key set is "
                "dropped and tokens are rejected (keys_unavailable) until a refresh succeeds%s",
                self._max_stale,
                self._of,
            )
            self._keys, self._stale_since, self._dropped = None, None, True

    def _may_fetch(self) -> bool:
        """Join a fetch under way, or start one once the cool-down (which protects the AS) is over."""
        return self._flight.running("jwks") or self._clock() >= self._next_attempt

    async def _fetch(self, wanted_kid: object = _ANY_KID) -> KeySet | None:
        self._next_attempt = self._clock() + self._min_refresh
        published = await self._published(wanted_kid)
        if published is not None:
            return published
        self._last_failure = None
        with self._telemetry.fetching("jwks", self._issuer) as outcome:
            try:
                return await self._fetch_from_as()
            finally:  # a failure either raised or was answered with the stale key set
                outcome.word = self._last_failure or "ok"

    async def _fetch_from_as(self) -> KeySet | None:
        try:
            with anyio.fail_after(self._timeout):  # discovery and the key set together
                uri = await self._resolve_uri()
                response = await request_json(
                    self._client, "GET", uri, max_bytes=self._max_bytes, total_timeout=self._timeout
                )
            if response.status_code != 200:
                raise FetchError("bad_status", f"JWKS answered HTTP {response.status_code}")
            keys = KeySet.from_jwks(response.body, self._allowed)
            age = max_age(response.headers)
        except TimeoutError:
            return self._failed(FetchError("timeout", f"no key set within {self._timeout:g} s"))
        except FetchError as exc:
            return self._failed(exc)
        ttl = self._cache_seconds if age is None else min(max(age, self._min_refresh), self._cache_seconds)
        self._install(keys, ttl)
        if self._shared is not None:
            await self._shared.set(_SHARED_KEY, response.body, ttl)
        return keys

    async def _published(self, wanted_kid: object) -> KeySet | None:
        """The key set another replica published, if it is fresh and has the wanted kid."""
        if self._shared is None:
            return None
        found = await self._shared.get(_SHARED_KEY)
        if found is None:
            return None
        document, remaining = found
        try:
            keys = KeySet.from_jwks(document, self._allowed)
        except FetchError:
            return None
        if wanted_kid is not _ANY_KID and wanted_kid not in keys.kids:
            return None
        self._install(keys, min(remaining, self._cache_seconds))
        return keys

    def _install(self, keys: KeySet, ttl: float) -> None:
        previous = self._keys.kids if self._keys is not None else frozenset()
        now = self._clock()
        if self._stale_since is not None or self._dropped:
            logger.warning(
                "JWKS refreshed after %g s of failed refreshes; stale serving stopped%s",
                now - (self._stale_since if self._stale_since is not None else self._refreshed_at),
                self._of,
            )
        self._keys, self._stale_since, self._dropped = keys, None, False
        self._fresh_until, self._refreshed_at = now + ttl, now
        if keys.kids != previous:
            kids = ",".join(sorted(str(k) for k in keys.kids))
            logger.info("JWKS loaded: %d keys, kids=%s%s", len(keys), kids, self._of)

    def _failed(self, exc: FetchError) -> KeySet:
        """Stale-on-error: log, and keep serving the last good key set until it is too old; with
        none, fail closed."""
        self._last_failure = exc.reason
        self._drop_if_too_old()
        self._log_failure(exc)
        if self._keys is None:
            if self._dropped:
                raise KeysExpired(f"refresh failed ({exc.reason}) and the last key set expired") from exc
            raise exc
        self._telemetry.stale_keys(self._issuer)
        if self._stale_since is None and self._clock() >= self._fresh_until:
            self._stale_since = self._clock()
            logger.warning(
                "JWKS: stale serving started; the last good key set is used for at most %g s more%s",
                self._max_stale - (self._clock() - self._refreshed_at),
                self._of,
            )
        return self._keys

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._shared is not None:
            await self._shared.aclose()

    def _log_failure(self, exc: FetchError) -> None:
        if self._keys is None:
            logger.warning(
                "JWKS fetch failed (%s: %s); no usable keys, tokens are rejected%s", exc.reason, exc.detail, self._of
            )
        else:
            logger.warning(
                "JWKS refresh failed (%s: %s); serving the last good key set%s", exc.reason, exc.detail, self._of
            )
