"""``introspection``: access tokens (opaque or not) checked at the Authorization Server, RFC 7662.

Select it with ``OSCAL_AUTH_VERIFIER=introspection``. Settings (``OSCAL_AUTH_INTROSPECTION_*``, see
`introspection_settings.IntrospectionSettings`) are validated at start-up; the client secret file is read then too.

**Endpoint.** ``OSCAL_AUTH_INTROSPECTION_URL``, or else the ``introspection_endpoint`` of the
issuer's metadata (RFC 8414 / OpenID Connect Discovery, exact issuer match: `discovery`).
Discovery is lazy: start-up does not need the Authorization Server to be up. The first request
fetches the metadata (concurrent first requests share one fetch); a failed fetch rejects those
requests and is retried by the next one; a found endpoint is kept for the life of the process.

**Request** (RFC 7662 section 2.1): ``POST token=...&token_type_hint=access_token``, the resource
server authenticated as a confidential client with ``client_secret_basic`` (default; id and secret
form-encoded before base64, RFC 6749 section 2.3.1) or ``client_secret_post``. One pooled
``httpx.AsyncClient`` per process, closed at shutdown. A request waits at most
``TIMEOUT_SECONDS`` for discovery and introspection together; a response is read up to
``MAX_RESPONSE_BYTES``.

**Response** (RFC 7662 section 2.2), failing closed, each refusal with a stable reason word:

- ``active`` must be the JSON value ``true`` (``false``: ``inactive``; missing or not a
  boolean: ``bad_response``);
- ``iss``, when present, must equal ``OSCAL_AUTH_ISSUER_URL`` (``wrong_issuer``). With only
  ``OSCAL_AUTH_INTROSPECTION_URL`` and no issuer configured there is nothing to compare with
  and ``iss`` is not checked;
- ``aud`` (a string or a list) must contain this server's resource URL, compared as URLs with a
  trailing slash ignored, as the SDK compares them (``wrong_audience``). A response without
  ``aud`` is refused (``no_audience``) unless ``REQUIRE_AUDIENCE=false``: an MCP server must not
  accept tokens issued for other resources (MCP authorization spec, RFC 8707);
- ``token_type``, when present, must be ``Bearer``, or ``DPoP`` with a ``cnf`` (RFC 9449
  section 6.2), and ``token_use`` (Ory Hydra), when present, ``access_token``
  (``wrong_token_type``: a refresh token is not an access token);
- a ``cnf`` member means the token is bound to a key or certificate (RFC 9449 section 6.2, RFC
  8705 section 3): it is handed on in the token's claims, and the pipeline refuses it under
  Bearer (``bound_token``) and matches it with the DPoP proof's key (``claims.check_binding``);
- ``exp`` and ``nbf``, when present, are checked with ``OSCAL_AUTH_LEEWAY_SECONDS``
  (``expired``, ``not_yet_valid``);
- ``scope`` is a space-separated string (RFC 7662) or a list of strings; absent means no scopes.

These rules are the shared ones of `oscal_mcp_auth.claims`; a claim of the wrong type is
``bad_response``. An ``http://`` endpoint on a host that is not loopback is refused, configured
(at start-up) or discovered (``introspection_unavailable``), unless ``OSCAL_AUTH_ALLOW_INSECURE_HTTP``.

Anything the Authorization Server does wrong means "not authenticated" (401), never a 500 and
never a hang: a timeout, a refused connection, a non-JSON or oversized body, or a status other
than 200 (``introspection_unavailable``, with the cause in the detail); HTTP 401/403, i.e. the
resource server's own credentials were refused (``introspection_denied``). These two are the
operator's problem rather than the client's, so they are also logged at WARNING, at most once a
minute per reason.

**Cache.** Results are kept in memory under the SHA-256 of the token (the token is neither key
nor part of the value): an active result for ``min(CACHE_SECONDS, exp - now)``, a refusal that is
a fact about the token (inactive, wrong audience...) for ``INACTIVE_CACHE_SECONDS`` so that a
client retrying a bad token does not flood the Authorization Server. Failures to reach it are
never cached. The cache is an LRU bounded to ``CACHE_MAX_ENTRIES``; concurrent requests with one
uncached token share a single introspection call. ``CACHE_SECONDS=0`` turns caching of active results off (every request
is introspected), ``INACTIVE_CACHE_SECONDS=0`` caching of refusals.

**Revocation latency.** A token revoked at the Authorization Server keeps working in each server
process until its cache entry expires: up to ``CACHE_SECONDS`` (60 s by default) after the
revocation, never past the token's ``exp``. Lower it, or set it to 0, where revocation must take
effect at once; each request then costs one call to the Authorization Server.
"""

from __future__ import annotations

import logging
import time
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import quote_plus

import anyio
import httpx
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import claims as rules
from oscal_mcp_auth.backends.introspection_settings import (
    PREFIX,
    IntrospectionSettings,
    load_settings,
)
from oscal_mcp_auth.cache import Codec, ResultCache, SingleFlight, cache_key, result_cache
from oscal_mcp_auth.discovery import EndpointResolver
from oscal_mcp_auth.errors import ConfigurationError, TokenRejected
from oscal_mcp_auth.http import FetchError, new_client, request_json
from oscal_mcp_auth.logsafe import shown
from oscal_mcp_auth.settings import AuthConfig
from oscal_mcp_auth.telemetry.relay import current_telemetry

logger = logging.getLogger("oscal_mcp_auth")

OPERATOR_WARNING_INTERVAL_SECONDS = 60.0

# Refusals that are facts about the token (the AS's answer), cached for INACTIVE_CACHE_SECONDS.
# Failures to get an answer (introspection_unavailable, introspection_denied, bad_response) are
# facts about the AS or our credentials and are never cached.
CACHED_REFUSALS = frozenset(
    {
        "inactive",
        "expired",
        "not_yet_valid",
        "wrong_issuer",
        "wrong_audience",
        "no_audience",
        "wrong_token_type",
    }
)
_DENIED_HINT = (
    "the authorization server refused this resource server's client credentials; "
    f"check {PREFIX}CLIENT_ID/SECRET and {PREFIX}AUTH_METHOD"
)


@dataclass(frozen=True)
class Refusal:
    """A cached negative result: the reason and detail to raise again without asking the AS."""

    reason: str
    detail: str


CachedResult: TypeAlias = AccessToken | Refusal


def _encode(result: CachedResult) -> dict[str, Any]:
    if isinstance(result, Refusal):
        return {"refused": [result.reason, result.detail]}
    return {"accepted": result.model_dump(mode="json", exclude={"token"})}


def _decode(data: Any) -> CachedResult:
    if "refused" in data:
        reason, detail = data["refused"]
        return Refusal(str(reason), str(detail))
    return AccessToken(token="", **data["accepted"])


CACHE_CODEC: Codec[CachedResult] = Codec(_encode, _decode)


class IntrospectionVerifier:
    """An SDK ``TokenVerifier`` that asks the Authorization Server about each (uncached) token."""

    def __init__(
        self,
        config: AuthConfig,
        settings: IntrospectionSettings,
        *,
        client: httpx.AsyncClient | None = None,
        cache: ResultCache[CachedResult] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`settings` as returned by `load_settings`; `client` and `cache` replace the defaults (tests)."""
        if config.resource_server_url is None:
            raise ConfigurationError("the introspection verifier needs OSCAL_AUTH_RESOURCE_SERVER_URL")
        if settings.client_secret is None:
            raise ConfigurationError(f"the introspection verifier needs {PREFIX}CLIENT_SECRET")
        self.settings = settings
        self.issuer = config.issuer_url
        self.resource = config.resource_server_url
        self._audiences = rules.accepted_audiences([self.resource])
        self._leeway = config.leeway_seconds
        self._secret = settings.client_secret
        self._owns_client = client is None
        self._client = client if client is not None else new_client(settings.timeout_seconds)
        self._endpoint = EndpointResolver(
            self._client,
            config.issuer_url,
            "introspection_endpoint",
            configured=settings.url,
            allow_insecure_http=config.allow_insecure_http,
            max_bytes=settings.max_response_bytes,
            total_timeout=settings.timeout_seconds,
            hint=f"set {config.name_of('INTROSPECTION_URL')}",
            label="token introspection endpoint",
        )
        self._cache: ResultCache[CachedResult] | None = None
        if settings.cache_seconds > 0 or settings.inactive_cache_seconds > 0:
            if cache is None:
                policy = f"{settings.url}|{settings.client_id}|{settings.require_audience}"
                names = tuple(f"{PREFIX}{name}" for name in ("URL", "CLIENT_ID", "REQUIRE_AUDIENCE"))
                cache = result_cache(
                    config, "introspection", settings.cache_max_entries, CACHE_CODEC, policy=policy,
                    policy_settings=names,
                )  # fmt: skip
            self._cache = cache
        self._clock = clock
        self._telemetry = current_telemetry()
        self._introspections: SingleFlight[AccessToken] = SingleFlight()
        self._warned_at: dict[str, float] = {}

    # -- the TokenVerifier protocol ---------------------------------------------------------------

    async def verify_token(self, token: str) -> AccessToken:
        """The token's identity, or `TokenRejected` with a reason word (see the module docstring)."""
        key = cache_key(token)
        if self._cache is not None:
            cached = await self._cache.get(key)
            if isinstance(cached, Refusal):
                raise TokenRejected(cached.reason, f"{cached.detail} (cached)")
            if cached is not None:
                return cached.model_copy(update={"token": token})
        return await self._introspections.run(key, lambda: self._introspect_and_remember(token, key))

    async def ready(self) -> str | None:
        """Readiness: None once the introspection endpoint is known (configured, or discovered now)."""
        try:
            await self._endpoint.resolve()
        except FetchError as exc:
            return exc.reason
        return None

    async def aclose(self) -> None:
        """Close the pooled HTTP client (when this verifier created it)."""
        if self._owns_client:
            await self._client.aclose()
        close = getattr(self._cache, "aclose", None)
        if close is not None:
            await close()

    # -- one introspection ------------------------------------------------------------------------

    async def _introspect_and_remember(self, token: str, key: str) -> AccessToken:
        try:
            access = await self._introspect(token)
        except TokenRejected as refused:
            if self._cache is not None and refused.reason in CACHED_REFUSALS:
                ttl = self.settings.inactive_cache_seconds
                await self._cache.set(key, Refusal(refused.reason, refused.detail), ttl)
            raise
        if self._cache is not None:  # without the token: a shared cache (redis) must not hold credentials
            await self._cache.set(key, access.model_copy(update={"token": ""}), self._active_ttl(access))
        return access

    def _active_ttl(self, access: AccessToken) -> float:
        """``min(CACHE_SECONDS, exp - now)``: a cached result never outlives the token."""
        ttl = float(self.settings.cache_seconds)
        if access.expires_at is not None:
            ttl = min(ttl, access.expires_at - self._clock())
        return ttl

    async def _introspect(self, token: str) -> AccessToken:
        with self._telemetry.fetching("introspection", self.issuer or "") as outcome:
            try:
                return await self._introspect_once(token)
            except TokenRejected as refused:
                outcome.word = refused.reason
                raise

    async def _introspect_once(self, token: str) -> AccessToken:
        timeout = self.settings.timeout_seconds
        try:
            with anyio.fail_after(timeout):
                endpoint = await self._endpoint.resolve()
                response = await request_json(
                    self._client,
                    "POST",
                    endpoint,
                    max_bytes=self.settings.max_response_bytes,
                    total_timeout=timeout,
                    **self._request(token),
                )
        except TimeoutError:
            raise self._unavailable("timeout", f"no answer within {timeout:g} s") from None
        except FetchError as exc:
            if exc.status_code in (401, 403):  # refused, with a body that is not JSON
                raise self._denied(f"HTTP {exc.status_code}") from None
            raise self._unavailable(exc.reason, exc.detail) from None
        status = response.status_code
        if status in (401, 403):
            raise self._denied(f"HTTP {status}{_error_code(response.body)}")
        if status != 200:
            raise self._unavailable("http_status", f"{endpoint} answered HTTP {status}{_error_code(response.body)}")
        return self._access_token(response.body, token)

    def _request(self, token: str) -> dict[str, Any]:
        """The form and headers of RFC 7662 section 2.1, with the client authentication."""
        form = {"token": token, "token_type_hint": "access_token"}
        headers: dict[str, str] = {}
        secret = self._secret.get_secret_value()
        if self.settings.auth_method == "client_secret_post":
            form.update(client_id=self.settings.client_id, client_secret=secret)
        else:
            pair = f"{quote_plus(self.settings.client_id, safe='')}:{quote_plus(secret, safe='')}"
            headers["authorization"] = "Basic " + b64encode(pair.encode()).decode("ascii")
        return {"data": form, "headers": headers}

    def _denied(self, answer: str) -> TokenRejected:
        detail = f"{answer}: {_DENIED_HINT}"
        self._warn_operator("introspection_denied", detail)
        return TokenRejected("introspection_denied", detail)

    def _unavailable(self, cause: str, detail: str) -> TokenRejected:
        message = f"{cause}: {detail}"
        self._warn_operator("introspection_unavailable", message)
        return TokenRejected("introspection_unavailable", message)

    def _warn_operator(self, reason: str, detail: str) -> None:
        now = time.monotonic()
        last = self._warned_at.get(reason)
        if last is not None and now - last < OPERATOR_WARNING_INTERVAL_SECONDS:
            return
        self._warned_at[reason] = now
        logger.warning("token introspection failing: reason=%s %s (requests are rejected)", reason, detail)

    # -- the response -----------------------------------------------------------------------------

    def _access_token(self, body: Any, token: str) -> AccessToken:
        """Check an introspection response (RFC 7662 section 2.2) and turn it into an `AccessToken`."""
        if not isinstance(body, dict):
            raise TokenRejected("bad_response", "the introspection response is not a JSON object")
        active = body.get("active")
        if active is False:
            raise TokenRejected("inactive", "the authorization server reports the token inactive")
        if active is not True:
            raise TokenRejected("bad_response", 'the response has no boolean "active" (RFC 7662 2.2)')
        try:
            return self._checked(body, token)
        except rules.MalformedClaim as malformed:
            raise TokenRejected("bad_response", str(malformed)) from None

    def _checked(self, body: dict[str, Any], token: str) -> AccessToken:
        client_id = rules.string(body, "client_id") or "unknown"
        who = f"client_id={shown(client_id)}"
        issuer = rules.string(body, "iss")
        if rules.check_issuer(issuer, self.issuer, required=False):
            raise TokenRejected("wrong_issuer", f"iss={shown(issuer)} is not {self.issuer}; {who}")
        self._check_audience(rules.audiences(body), body, who)
        self._check_token_type(body, who)
        now = self._clock()
        # exp and nbf (RFC 7662 section 2.2); iat is the AS's business: it answered "active".
        reason = rules.check_expiry(rules.numeric(body, "exp"), now, self._leeway) or rules.check_not_before(
            rules.numeric(body, "nbf"), now, self._leeway
        )
        if reason:
            raise TokenRejected(reason, f"exp={shown(body.get('exp'))} nbf={shown(body.get('nbf'))}; {who}")
        # cnf: the key a DPoP-bound token is bound to, for the pipeline's binding check
        claims = {"iss": issuer or self.issuer, "aud": body.get("aud"), "cnf": body.get("cnf")}
        expires_at = rules.numeric(body, "exp")
        return AccessToken(
            token=token,
            client_id=client_id,
            scopes=rules.scopes(body, ("scope",)),
            expires_at=None if expires_at is None else int(expires_at),
            resource=self.resource,  # the audience check above is what makes this true
            subject=rules.string(body, "sub"),
            claims={name: value for name, value in claims.items() if value is not None} or None,
        )

    def _check_audience(self, audiences: list[str] | None, body: dict[str, Any], who: str) -> None:
        reason = rules.check_audience(audiences, self._audiences, required=self.settings.require_audience)
        if reason == "no_audience":
            raise TokenRejected(
                reason, f"the response has no aud; set {PREFIX}REQUIRE_AUDIENCE=false to allow that; {who}"
            )
        if reason:
            raise TokenRejected(reason, f"aud={shown(body.get('aud'))} does not include {self.resource}; {who}")

    @staticmethod
    def _check_token_type(body: dict[str, Any], who: str) -> None:
        token_type = rules.string(body, "token_type")
        kind = None if token_type is None else token_type.lower()
        if kind not in (None, "bearer", "dpop") or (kind == "dpop" and not isinstance(body.get("cnf"), dict)):
            raise TokenRejected(
                "wrong_token_type", f"token_type={shown(token_type)} is not Bearer, nor DPoP with a cnf; {who}"
            )
        token_use = rules.string(body, "token_use")
        if token_use is not None and token_use != "access_token":  # noqa: S105 (a token kind, not a secret)
            raise TokenRejected("wrong_token_type", f"token_use={shown(token_use)} is not access_token; {who}")


def _error_code(body: Any) -> str:
    """``error=<code>`` of an OAuth error response (RFC 6749 5.2), when there is one."""
    error = body.get("error") if isinstance(body, dict) else None
    return f" error={shown(error, 60)}" if isinstance(error, str) else ""


def create_verifier(config: AuthConfig) -> IntrospectionVerifier:
    """The entry point ``introspection`` (group ``oscal_mcp_auth.verifiers``)."""
    return IntrospectionVerifier(config, load_settings(config))
