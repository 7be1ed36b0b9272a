"""Protect one MCP endpoint with bearer or DPoP-bound tokens: our own ASGI wrapper, composed around
the endpoint.

The road of a request's token, all in this module but the verifier and the proof check:

1. `read_authorization` reads the ``Authorization`` header (RFC 6750 section 2.1, RFC 9449
   section 7.1, strictly): ``Bearer <token>``, or ``DPoP <token>`` where the resource accepts
   DPoP (`ProtectedResource.dpop`; with ``required`` it accepts nothing else);
2. under DPoP, the proof in the ``DPoP`` header is checked against the request (`dpop.check_proof`);
3. the verifier (any SDK ``TokenVerifier``, e.g. `VerificationPipeline`) turns the token into an
   ``AccessToken`` or refuses it; under DPoP it is a `BindingVerifier`, told the proof key's
   thumbprint, to which the token must be bound (RFC 9449 section 6);
4. the resource check (RFC 8707, `ProtectedResource.accepts_resource`);
5. under DPoP, the proof's first use (`replay.ReplayCache`, RFC 9449 section 11.1);
6. the scope check (RFC 6750 section 3.1 ``insufficient_scope``);
7. the SDK's public ``AuthContextMiddleware``, so tools see the caller via ``get_access_token()``;
8. the endpoint, which gets ``scope["user"]`` (the SDK's ``AuthenticatedUser``: the session
   manager binds each session to the credential that opened it) and ``scope["auth"]``.

Any failure is answered with a challenge (`oscal_mcp_auth.challenge`) and never reaches the endpoint.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken, TokenVerifier
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oscal_mcp_auth.challenge import NO_CREDENTIALS, BearerError, send_challenge
from oscal_mcp_auth.dpop import (
    CheckedProof,
    DPoPPolicy,
    InvalidProof,
    ProofTarget,
    check_proof,
    public_origin,
    read_proof_header,
    request_url,
)
from oscal_mcp_auth.dpop_nonce import NonceIssuer
from oscal_mcp_auth.errors import ConfigurationError
from oscal_mcp_auth.jws import fingerprint as token_fingerprint
from oscal_mcp_auth.logsafe import REQUEST_FIELDS, audit_extra, identity_fields, session_id_hash, shown
from oscal_mcp_auth.redaction import carries_access_token
from oscal_mcp_auth.replay import ReplayCache, ReplayCheckUnavailable
from oscal_mcp_auth.resource import ProtectedResource, metadata_routes
from oscal_mcp_auth.telemetry.relay import NO_TELEMETRY, Telemetry, note_rejection, take_rejection

logger = logging.getLogger("oscal_mcp_auth")

# RFC 6750 section 2.1 (and RFC 9449 section 7.1 for DPoP):
# b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MAX_TOKEN_LENGTH = 16 * 1024
BEARER, DPOP = "Bearer", "DPoP"
REPLAY_RETRY_AFTER_SECONDS = 5

INVALID_TOKEN = BearerError(401, "invalid_token", "The access token is invalid, expired or not for this resource")
TOKEN_IN_QUERY = BearerError(
    400, "invalid_request", "Send the access token in the Authorization header, never in the query string"
)
TWO_HEADERS = BearerError(400, "invalid_request", "More than one Authorization header")
EMPTY_BEARER = BearerError(400, "invalid_request", "The Bearer scheme needs a token")
DPOP_ONLY = BearerError(401, None, "This resource accepts DPoP-bound tokens only: send Authorization: DPoP and a proof")
REPLAY_UNAVAILABLE = BearerError(
    503,
    "temporarily_unavailable",
    "DPoP proofs cannot be checked for replay right now; retry shortly",
    headers=((b"retry-after", str(REPLAY_RETRY_AFTER_SECONDS).encode()),),
)

ScopeDenied = Callable[[AccessToken, list[str]], None]
"""Told about a valid token that lacks required scopes: (the token, the scopes it lacks)."""


@runtime_checkable
class BindingVerifier(TokenVerifier, Protocol):
    """A ``TokenVerifier`` that also verifies tokens presented with a DPoP proof (RFC 9449).

    `verify_token` keeps Bearer semantics: a token bound to a key (``cnf``) is refused there.
    """

    async def verify_bound(self, token: str, jkt: str) -> AccessToken | None:
        """Verify `token`, presented under ``DPoP`` with a valid proof whose key has the RFC 7638
        thumbprint `jkt`: a bound token must be bound to exactly that key (``cnf.jkt``, RFC 9449
        section 6); an unbound one is accepted only where DPoP is not required."""
        ...

    def proof_refused(self, token: str, reason: str, detail: str) -> None:
        """Told about a request refused for its DPoP proof, to log and audit it (never the proof)."""
        ...


@dataclasses.dataclass(frozen=True)
class Presented:
    """The credentials of a request: the scheme (`BEARER` or `DPOP`) and the access token."""

    scheme: str
    token: str


def read_authorization(scope: Scope, *, dpop: bool = False) -> Presented | BearerError | None:
    """The credentials of a request; a `BearerError` for a malformed request; None without any.

    Another scheme (``Basic``; ``DPoP`` unless `dpop`) carries no credentials this resource
    takes, so it counts as none (RFC 6750 section 3.1: such a request gets a challenge without an
    ``error``). Scheme names are case-insensitive (RFC 9110 section 11.1).
    """
    query = scope.get("query_string", b"")
    if query and carries_access_token(query.decode("latin-1")):
        return TOKEN_IN_QUERY  # RFC 6750 section 2.3 is a MAY we refuse: query strings get logged
    headers = Headers(scope=scope).getlist("authorization")
    if not headers:
        return None
    if len(headers) > 1:
        return TWO_HEADERS
    name, _, credentials = headers[0].partition(" ")
    scheme = {"bearer": BEARER, "dpop": DPOP if dpop else None}.get(name.lower())
    if scheme is None:
        return None
    token = credentials.lstrip(" ")
    if not token:
        return dataclasses.replace(EMPTY_BEARER, description=f"The {scheme} scheme needs a token", scheme=scheme)
    if len(token) > MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(token):
        logger.info(
            "token rejected: reason=malformed_token length=%d",
            len(token),
            extra=audit_extra(outcome="reject", reason="malformed_token"),
        )
        note_rejection("malformed_token")
        return dataclasses.replace(INVALID_TOKEN, scheme=scheme)
    return Presented(scheme, token)


def insufficient_scope(missing: list[str], scheme: str = BEARER) -> BearerError:
    return BearerError(403, "insufficient_scope", f"Missing scope: {' '.join(missing)}", scheme=scheme)


def invalid_proof(refused: InvalidProof) -> BearerError:
    """RFC 9449 section 7.1: a bad proof is answered with ``invalid_dpop_proof``; a proof without a
    nonce this server accepts with ``use_dpop_nonce`` (section 9)."""
    error = "use_dpop_nonce" if refused.reason == "dpop_nonce" else "invalid_dpop_proof"
    return BearerError(401, error, f"Invalid DPoP proof ({refused.reason}): {refused.detail}", scheme=DPOP)


class BearerAuth:
    """An ASGI app that lets only requests with a valid token and every required scope reach `app`.

    Wrap exactly the endpoint to protect (see `protect`): everything it wraps costs a
    verification, everything else (the metadata document) stays public. Where the resource
    accepts DPoP, `verifier` must be a `BindingVerifier`; `replay` remembers the proofs (by
    default in this process only: pass one with a shared store for several replicas); with
    `nonces`, proofs must carry a nonce this server handed out (RFC 9449 section 9), and every
    answer to a DPoP request carries a current one in ``DPoP-Nonce``.
    """

    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier,
        resource: ProtectedResource,
        *,
        on_scope_denied: ScopeDenied | None = None,
        replay: ReplayCache | None = None,
        nonces: NonceIssuer | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        binding = verifier if isinstance(verifier, BindingVerifier) else None
        if resource.dpop is not None and binding is None:
            raise ConfigurationError(
                f"DPoP needs a verifier that checks token binding (verify_bound, proof_refused); "
                f"{type(verifier).__name__} does not"
            )
        self.app = app
        self.verifier = verifier
        self._binding = binding
        self.resource = resource
        self.on_scope_denied = on_scope_denied
        self.replay = replay if replay is not None else ReplayCache()
        self.nonces = nonces
        self._origin = public_origin(resource.url)
        self._with_context = AuthContextMiddleware(app)
        # a `VerificationPipeline` brings the hooks of its plugin manager
        found = telemetry if telemetry is not None else getattr(verifier, "telemetry", None)
        self._telemetry = found if isinstance(found, Telemetry) else NO_TELEMETRY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})  # no challenge possible: refuse
            return
        take_rejection()  # a reason noted earlier in this task belongs to an earlier request
        session = _session_header(scope)
        REQUEST_FIELDS.set({"session_id_hash": session_id_hash(session)} if session else None)
        authenticated = await self._authenticate(scope)
        if isinstance(authenticated, BearerError):
            self._telemetry.request("reject", take_rejection() or _reason_word(authenticated))
            await self._challenge(send, authenticated)
            return
        access, scheme = authenticated
        missing = [required for required in self.resource.required_scopes if required not in access.scopes]
        if missing:
            if self.on_scope_denied is not None:
                self.on_scope_denied(access, missing)
            self._telemetry.request("reject", "insufficient_scope")
            await self._challenge(send, insufficient_scope(missing, scheme))
            return
        self._telemetry.request("accept", "ok")
        if scheme == DPOP and self.nonces is not None:  # RFC 9449 section 8.2: the next nonce, ahead of time
            send = _with_header(send, b"dpop-nonce", self.nonces.current().encode())
        scope["user"] = AuthenticatedUser(access)
        scope["auth"] = AuthCredentials(access.scopes)
        await self._with_context(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> tuple[AccessToken, str] | BearerError:
        dpop = self.resource.dpop
        presented = read_authorization(scope, dpop=dpop is not None)
        if presented is None:
            return NO_CREDENTIALS
        if isinstance(presented, BearerError):
            return presented
        if presented.scheme == DPOP and dpop is not None:
            return await self._authenticate_dpop(scope, presented.token, dpop)
        if dpop is not None and dpop.required:
            fingerprint = token_fingerprint(presented.token)
            logger.info(
                "token rejected: reason=dpop_required token_id=%s",
                fingerprint,
                extra=audit_extra(outcome="reject", reason="dpop_required", token_id=fingerprint),
            )
            note_rejection("dpop_required")
            return DPOP_ONLY
        access = await self.verifier.verify_token(presented.token)
        if access is None or not self._for_this_resource(access):
            return INVALID_TOKEN
        return access, BEARER

    async def _authenticate_dpop(
        self, scope: Scope, token: str, policy: DPoPPolicy
    ) -> tuple[AccessToken, str] | BearerError:
        verifier = self._binding
        assert verifier is not None  # checked in __init__: DPoP needs a BindingVerifier
        target = ProofTarget(scope["method"], request_url(self._origin, scope), token)
        try:
            proof = _checked_proof(scope, target, policy, self.nonces)
        except InvalidProof as refused:
            verifier.proof_refused(token, refused.reason, refused.detail)
            return invalid_proof(refused)
        access = await verifier.verify_bound(token, proof.thumbprint)
        if access is None or not self._for_this_resource(access):
            return dataclasses.replace(INVALID_TOKEN, scheme=DPOP)
        try:
            await self.replay.remember(proof, policy.replay_window(proof.iat, time.time()))
        except InvalidProof as refused:
            verifier.proof_refused(token, refused.reason, refused.detail)
            return invalid_proof(refused)
        except ReplayCheckUnavailable as unavailable:
            verifier.proof_refused(token, "replay_cache_unavailable", str(unavailable))
            return REPLAY_UNAVAILABLE
        return access, DPOP

    def _for_this_resource(self, access: AccessToken) -> bool:
        if self.resource.accepts_resource(access.resource):
            return True
        logger.info(
            "token rejected: reason=wrong_resource client_id=%s",
            shown(access.client_id),
            extra=audit_extra(outcome="reject", reason="wrong_resource", **identity_fields(access)),
        )
        note_rejection("wrong_resource")
        return False

    async def _challenge(self, send: Send, failure: BearerError) -> None:
        if failure.scheme == DPOP and self.nonces is not None:  # RFC 9449 section 9: the nonce to use
            failure = dataclasses.replace(
                failure, headers=(*failure.headers, (b"dpop-nonce", self.nonces.current().encode()))
            )
        await send_challenge(
            send,
            failure,
            resource_metadata_url=self.resource.metadata_url,
            scopes=self.resource.required_scopes,
            dpop=self.resource.dpop,
        )


def _session_header(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"mcp-session-id":
            return str(value.decode("latin-1"))
    return None


def _reason_word(failure: BearerError) -> str:
    """The reason word of a refusal no component noted (a request without usable credentials)."""
    if failure is NO_CREDENTIALS:
        return "no_credentials"
    if failure is TOKEN_IN_QUERY:
        return "token_in_query"
    return failure.error or "rejected"


def _checked_proof(scope: Scope, target: ProofTarget, policy: DPoPPolicy, nonces: NonceIssuer | None) -> CheckedProof:
    """`check_proof` on the request's proof; whatever else it raises on a hostile proof is a
    refusal too (fail closed, never a 500), logged with the exception's type, never the proof."""
    try:
        return check_proof(read_proof_header(scope), target, policy, time.time(), nonces)
    except InvalidProof:
        raise
    except Exception as exc:
        logger.warning("DPoP proof check raised %s; the proof is refused", type(exc).__name__)
        raise InvalidProof("dpop_malformed", "the proof could not be read") from None


def _with_header(send: Send, name: bytes, value: bytes) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (name, value)]}
        await send(message)

    return sending


def protect(
    endpoint: ASGIApp,
    verifier: TokenVerifier,
    resource: ProtectedResource,
    *,
    path: str = "/mcp",
    on_scope_denied: ScopeDenied | None = None,
    replay: ReplayCache | None = None,
    nonces: NonceIssuer | None = None,
) -> list[BaseRoute]:
    """The routes of a protected MCP endpoint: the RFC 9728 metadata and `endpoint` behind `BearerAuth`.

    `endpoint` is any ASGI app serving MCP at `path`, e.g. the app the SDK's
    ``MCPServer.streamable_http_app()`` returns, used whole and unchanged. Put the routes in your
    own Starlette app whose lifespan runs the session manager (``mcp.session_manager.run()``).
    """
    guarded = BearerAuth(endpoint, verifier, resource, on_scope_denied=on_scope_denied, replay=replay, nonces=nonces)
    return [*metadata_routes(resource), Route(path, guarded)]
