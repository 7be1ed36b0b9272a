"""The verifier the server installs: the selected backend, then the shared claim rules (expiry,
bound tokens), veto hooks and audit.

`VerificationPipeline` is itself an SDK ``TokenVerifier`` (tokens presented as bearer tokens) and
a `BindingVerifier` (tokens presented under DPoP: `verify_bound`). It fails closed: a backend that raises
rejects the token (reason ``verifier_error``), and so does a veto hook that raises. Whatever a
backend (a plugin's too) returns passes the same `claims` rules once more, so a plugin cannot
forget them. Values from the token reach the log only through `logsafe.shown`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pluggy
from mcp.server.auth.provider import AccessToken, TokenVerifier

from oscal_mcp_auth import claims as rules
from oscal_mcp_auth import jws
from oscal_mcp_auth.errors import ConfigurationError, PluginLoadError, TokenRejected
from oscal_mcp_auth.hooks import AuthEvent, create_plugin_manager, refuse_veto_wrappers, register_plugin, veto_reason
from oscal_mcp_auth.logsafe import audit_extra, escaped, identity_fields, shown
from oscal_mcp_auth.registry import build_verifier
from oscal_mcp_auth.scopes import effective_scopes
from oscal_mcp_auth.settings import AuthConfig
from oscal_mcp_auth.telemetry.relay import Telemetry, installed, note_rejection, noted_rejection

logger = logging.getLogger("oscal_mcp_auth")


def token_id(token: str) -> str:
    """A short SHA-256 fingerprint to correlate log lines about one token without revealing it;
    an ES* token and its ECDSA twin share it (`jws.fingerprint`)."""
    return jws.fingerprint(token)


class VerificationPipeline:
    def __init__(
        self,
        backend: TokenVerifier,
        config: AuthConfig,
        plugin_manager: pluggy.PluginManager,
        *,
        name: str,
    ) -> None:
        self.backend = backend
        self.config = config
        self.name = name
        self._hooks = plugin_manager.hook
        self.telemetry = Telemetry(plugin_manager.hook)

    @property
    def binds_tokens(self) -> bool:
        """Whether the backend's tokens can be bound to a key (RFC 9449): false for a backend that
        says so (``binds_tokens = False``, the static one), so DPoP is not offered with it."""
        return binds_tokens(self.backend)

    async def verify_token(self, token: str) -> AccessToken | None:
        """A token presented under ``Bearer``: one bound to a key (``cnf``) is refused."""
        return await self._verified(token, None)

    async def verify_bound(self, token: str, jkt: str) -> AccessToken | None:
        """A token presented under ``DPoP`` with a valid proof by the key of RFC 7638 thumbprint
        `jkt`: a bound token must be bound to that key (RFC 9449 section 6)."""
        return await self._verified(token, jkt)

    def proof_refused(self, token: str, reason: str, detail: str) -> None:
        """Called by the endpoint guard when a request's DPoP proof is refused: logged and audited
        like a refused token."""
        self._reject(token_id(token), reason, detail)
        self.telemetry.dpop_refused(reason)

    async def _verified(self, token: str, jkt: str | None) -> AccessToken | None:
        if not self.telemetry.active:  # the hot path without telemetry: no clock, no span
            return await self._decided(token, jkt)
        started = time.perf_counter()
        with self.telemetry.span("oscal_auth.verify", verifier=self.name) as span:
            access = await self._decided(token, jkt)
            if access is None:
                self._observe(span, "reject", noted_rejection() or "rejected", started)
            else:
                self._observe(span, "accept", "ok", started, access)
        return access

    async def _decided(self, token: str, jkt: str | None) -> AccessToken | None:
        """The decision, logged and audited; a refusal's reason is noted (`note_rejection`)."""
        try:
            access = await self._verify(token, jkt)
        except TokenRejected as rejected:
            self._reject(token_id(token), rejected.reason, rejected.detail)
            return None
        if self._audited():  # the accept path is hot: build the event only for a listener
            self._audit(
                AuthEvent("accept", "ok", self.name, token_id(token), access.client_id, access.subject,
                          tuple(access.scopes))
            )  # fmt: skip
        return access

    def _observe(self, span: Any, outcome: str, reason: str, started: float, access: AccessToken | None = None) -> None:
        span.set_attribute("oscal_auth.outcome", outcome)
        span.set_attribute("oscal_auth.reason", reason)
        issuer = (access.claims or {}).get("iss") if access is not None else None
        if isinstance(issuer, str) and issuer in self.config.issuer_urls:  # a configured name only
            span.set_attribute("oscal_auth.issuer", issuer)
        self.telemetry.verified(self.name, outcome, reason, time.perf_counter() - started)

    def _audited(self) -> bool:
        return bool(self._hooks.oscal_auth_audit.get_hookimpls())

    async def _verify(self, token: str, jkt: str | None) -> AccessToken:
        try:
            access = await self.backend.verify_token(token)
        except TokenRejected:
            raise
        except Exception as exc:
            # The message of an unexpected error may quote its input: log the type only.
            logger.warning("verifier %s raised %s; rejecting the token", self.name, type(exc).__name__)
            raise TokenRejected("verifier_error", type(exc).__name__) from None
        if access is None:
            raise TokenRejected("rejected", "the verifier returned no identity")
        if not getattr(self.backend, "canonical_tokens", False):  # hooks key on one spelling per token
            spelling = jws.canonical_spelling(access.token)
            access = access if spelling == access.token else access.model_copy(update={"token": spelling})
        required = self.config.dpop is not None and self.config.dpop.required
        reason = rules.check_expiry(access.expires_at, time.time(), self.config.leeway_seconds) or rules.check_binding(
            access.claims or {}, dpop_jkt=jkt, dpop_required=required
        )
        if reason:
            raise TokenRejected(reason, f"client_id={shown(access.client_id)}")
        if self.config.scope_implies:
            access = access.model_copy(update={"scopes": effective_scopes(access.scopes, self.config.scope_implies)})
        self._check_hooks(access)
        return access

    def _check_hooks(self, access: AccessToken) -> None:
        if not self._hooks.oscal_auth_check_token.get_hookimpls():
            return
        try:
            results = self._hooks.oscal_auth_check_token(token=access, config=self.config)
        except Exception as exc:
            logger.warning("hook oscal_auth_check_token raised %s; rejecting the token", type(exc).__name__)
            raise TokenRejected("hook_error", type(exc).__name__) from None
        reason = veto_reason(results)
        if reason is not None:
            raise TokenRejected(reason, f"vetoed by a hook; client_id={shown(access.client_id)}")

    def _reject(self, fingerprint: str, reason: str, detail: str) -> None:
        note_rejection(reason)
        # A plugin's reason or detail may hold raw token values: escaped here, whatever built them.
        logger.info(
            "token rejected: reason=%s verifier=%s token_id=%s%s",
            escaped(reason, 64),
            self.name,
            fingerprint,
            f" {escaped(detail)}" * bool(detail),
            extra=audit_extra(outcome="reject", reason=reason, verifier=self.name, token_id=fingerprint),
        )
        self._audit(AuthEvent("reject", reason, self.name, fingerprint))

    def scope_denied(self, access: AccessToken, missing: list[str]) -> None:
        """Called by the endpoint guard when a valid token lacks required scopes."""
        fingerprint = token_id(access.token)
        logger.info(
            "request refused: reason=insufficient_scope verifier=%s client_id=%s missing=%s",
            self.name,
            shown(access.client_id),
            shown(" ".join(missing)),
            extra=audit_extra(
                outcome="reject",
                reason="insufficient_scope",
                verifier=self.name,
                token_id=fingerprint,
                missing=missing,
                **identity_fields(access),
            ),
        )
        self._audit(
            AuthEvent(
                "reject",
                "insufficient_scope",
                self.name,
                fingerprint,
                access.client_id,
                access.subject,
                tuple(access.scopes),
            )
        )

    def _audit(self, event: AuthEvent) -> None:
        if not self._audited():
            return
        try:
            self._hooks.oscal_auth_audit(event=event)
        except Exception as exc:
            logger.warning("hook oscal_auth_audit raised %s; ignored", type(exc).__name__)

    async def ready(self) -> str | None:
        """Readiness: None when the backend can verify now, else a reason word. A backend without
        ``async ready()`` (a plugin's) counts as ready; one whose check raises does not."""
        check: Any = getattr(self.backend, "ready", None)
        if check is None:
            return None
        try:
            reason = await check()
        except Exception as exc:
            logger.warning("verifier %s readiness check raised %s", self.name, type(exc).__name__)
            return "verifier_error"
        return None if reason is None else escaped(str(reason), 64)

    async def aclose(self) -> None:
        close: Any = getattr(self.backend, "aclose", None)
        if close is not None:
            await close()


def load_verifier(
    config: AuthConfig,
    *,
    plugin_manager: pluggy.PluginManager | None = None,
    metrics_registry: Any = None,
    tracer_provider: Any = None,
) -> VerificationPipeline:
    """Build the selected backend and wrap it with the installed hook plugins.

    With `metrics_registry` (a ``prometheus_client.CollectorRegistry``, extra ``metrics``), the
    built-in metrics plugin (`oscal_mcp_auth.telemetry.metrics.AuthMetrics`) is registered like
    any hook plugin and records the auth metrics there. With `tracer_provider` (an OpenTelemetry
    ``TracerProvider``, extra ``otel``), the built-in tracing plugin
    (`oscal_mcp_auth.telemetry.tracing.AuthTracing`) makes spans of verifications and of calls to
    the Authorization Server.

    Raises `ConfigurationError` (or a subclass) with an actionable message when the verifier is
    unknown, its extra is missing, a plugin fails to load or its settings are invalid.
    """
    manager = plugin_manager if plugin_manager is not None else create_plugin_manager()
    refuse_veto_wrappers(manager)
    if metrics_registry is not None:
        register_plugin(manager, metrics_plugin(metrics_registry), METRICS_PLUGIN)
    if tracer_provider is not None:
        register_plugin(manager, tracing_plugin(tracer_provider), TRACING_PLUGIN)
    if config.allow_insecure_http:
        logger.warning(
            "%s=true: plain http to the authorization server is allowed; anyone on that network path "
            "can read client secrets and tokens and inject signing keys or introspection answers",
            config.name_of("ALLOW_INSECURE_HTTP"),
        )
    with installed(Telemetry(manager.hook)):  # the backend's caches and clients report to the hooks
        backend = build_verifier(config)
    _refuse_required_dpop(backend, config)
    _configure_plugins(manager, config)
    return VerificationPipeline(backend, config, manager, name=config.verifier or "?")


def binds_tokens(backend: TokenVerifier) -> bool:
    """Whether a backend's tokens can be bound to a key (RFC 9449): true unless it says
    ``binds_tokens = False`` (the static one)."""
    return bool(getattr(backend, "binds_tokens", True))


def _refuse_required_dpop(backend: TokenVerifier, config: AuthConfig) -> None:
    """DPoP required or nonces on, with a backend whose tokens cannot be bound: a start-up error
    (every request would be refused)."""
    if binds_tokens(backend):
        return
    for needing, wanted in (("DPOP_REQUIRED", config.dpop is not None and config.dpop.required),
                            ("DPOP_NONCE", config.dpop_nonce)):  # fmt: skip
        if wanted:
            raise ConfigurationError(
                f"{config.name_of(needing)}=true needs DPoP-bound tokens, and the {config.verifier} verifier's "
                f"tokens can never be bound to a key: unset {config.name_of(needing)}"
            )


METRICS_PLUGIN = "oscal-metrics"
TRACING_PLUGIN = "oscal-tracing"


def metrics_plugin(registry: Any) -> object:
    """The built-in metrics plugin recording into `registry`; a clear error without the extra."""
    try:
        from oscal_mcp_auth.telemetry.metrics import AuthMetrics
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            f"metrics need the Python package 'prometheus-client' ({exc.name}), which is not installed; "
            "install it with: pip install 'oscal-mcp[metrics]'"
        ) from None
    return AuthMetrics(registry)


def tracing_plugin(tracer_provider: Any) -> object:
    """The built-in tracing plugin with a tracer of `tracer_provider`."""
    from oscal_mcp_auth.telemetry.tracing import AuthTracing  # opentelemetry-api: a dependency of mcp

    return AuthTracing(tracer_provider.get_tracer("oscal_mcp_auth"))


def _configure_plugins(manager: pluggy.PluginManager, config: AuthConfig) -> None:
    for impl in manager.hook.oscal_auth_configure.get_hookimpls():
        try:
            impl.function(**{name: config for name in impl.argnames})  # an implementation may omit it
        except ConfigurationError:
            raise
        except Exception as exc:
            raise PluginLoadError(
                f"hook plugin '{impl.plugin_name}' failed to configure: {type(exc).__name__}: {exc}"
            ) from exc
