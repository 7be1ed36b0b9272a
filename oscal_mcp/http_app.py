"""The streamable-http half of the server: our own Starlette app around the MCP endpoint, and serving it.

The app is built from public pieces, outermost first: the probes, tracing when on, the DNS-rebinding
guard -> CORS -> routes (the RFC 9728 metadata document; the MCP endpoint, behind
`oscal_mcp_auth.BearerAuth` when auth is on). The endpoint is the app the SDK's
``streamable_http_app()`` returns, used whole and unchanged; our lifespan runs its session manager,
starts the warm-up once the server is listening, and closes the verifier at shutdown.

Only the HTTP transport imports this module (`oscal_mcp.launch.run`): the auth library's runtime,
metrics, tracing and uvicorn never load over stdio.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from oscal_mcp.audit import ToolAudit
from oscal_mcp.config import ConfigError, Settings
from oscal_mcp.cors import Cors
from oscal_mcp.health import BundledContentCheck, Check, Probes
from oscal_mcp.oscal.warmup import WarmUp
from oscal_mcp.rebinding import RebindingGuard, policy_for
from oscal_mcp.server import server_and_warm_up
from oscal_mcp.sessions import SessionLedger
from oscal_mcp.tools.families import exercise
from oscal_mcp.tracing import start_tracing, tracing_wanted
from oscal_mcp_auth.asgi import protect
from oscal_mcp_auth.dpop_nonce import NonceIssuer
from oscal_mcp_auth.readiness import RedisProbe
from oscal_mcp_auth.replay import ReplayCache, replay_cache
from oscal_mcp_auth.resource import ProtectedResource
from oscal_mcp_auth.telemetry import installed
from oscal_mcp_auth.verifier import VerificationPipeline, load_verifier

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from prometheus_client import CollectorRegistry

logger = logging.getLogger("oscal_mcp")

# The SDK's own Host/Origin check would refuse a reverse proxy's public Host on a loopback bind;
# `RebindingGuard` does that job in front of everything instead.
_NO_SDK_HOST_CHECK = TransportSecuritySettings(enable_dns_rebinding_protection=False)


def build_http_app(
    settings: Settings, *, metrics: CollectorRegistry | None = None, tracer_provider: TracerProvider | None = None
) -> Starlette:
    """The streamable-http ASGI app, with bearer (and DPoP) auth when it is configured, recording
    metrics into `metrics` and spans through `tracer_provider` when given (`oscal_mcp.metrics`,
    `oscal_mcp.tracing`)."""
    verifier = (
        load_verifier(settings.auth, metrics_registry=metrics, tracer_provider=tracer_provider)
        if settings.auth_enabled
        else None
    )
    replay = _replay_cache(settings, verifier)
    server, warm_up = server_and_warm_up(settings)
    if settings.log_format == "json":  # the audit format: a line per tool call
        server.middleware.append(ToolAudit())
    endpoint: ASGIApp = server.streamable_http_app(
        streamable_http_path=settings.path,
        json_response=settings.json_response,
        stateless_http=settings.stateless_http,
        max_request_body_size=settings.max_request_bytes,
        max_sessions=settings.max_sessions,
        session_idle_timeout=settings.session_idle_seconds,
        transport_security=_NO_SDK_HOST_CHECK,
    )
    ledger = None
    if not settings.stateless_http:  # the quota and the session metrics read one ledger
        endpoint = ledger = SessionLedger(
            endpoint, per_principal=settings.max_sessions_per_principal, idle_seconds=settings.session_idle_seconds
        )
    if metrics is not None:
        from oscal_mcp.metrics import instrument_server

        instrument_server(server, metrics, ledger)
    return Starlette(
        routes=_routes(settings, endpoint, verifier, replay),
        middleware=[_probes(settings, verifier), *_tracing(tracer_provider), *_middleware(settings)],
        lifespan=_lifespan(server, verifier, replay, warm_up),
    )


def _replay_cache(settings: Settings, verifier: VerificationPipeline | None) -> ReplayCache | None:
    """DPoP's replay cache where DPoP is offered (`_offers_dpop`); its Redis store reports to the
    verifier's telemetry like the backend's."""
    if verifier is None or not _offers_dpop(settings, verifier):
        return None
    with installed(verifier.telemetry):
        return replay_cache(settings.auth)


def _offers_dpop(settings: Settings, verifier: VerificationPipeline) -> bool:
    """DPoP where it is on and the verifier can bind tokens to keys (the static one never can:
    offering it would only invite clients to sign proofs for nothing)."""
    if settings.auth.dpop is None:
        return False
    if not verifier.binds_tokens:
        logger.info("the %s verifier cannot bind tokens to keys: DPoP is not offered", verifier.name)
        return False
    return True


def protected_resource(settings: Settings, *, dpop: bool = True) -> ProtectedResource:
    """This server as an OAuth protected resource; only called when auth is on (a resource URL is set).
    Without `dpop`, DPoP is neither accepted nor offered, in challenges and metadata alike."""
    auth = settings.auth
    if auth.resource_server_url is None:
        raise RuntimeError("authentication is on without a resource server URL")  # config.py prevents it
    return ProtectedResource(
        url=auth.resource_server_url,
        authorization_servers=auth.issuer_urls,  # in the order given (RFC 9728 section 2)
        required_scopes=auth.required_scopes,
        dpop=auth.dpop if dpop else None,
    )


def _routes(
    settings: Settings, endpoint: ASGIApp, verifier: VerificationPipeline | None, replay: ReplayCache | None
) -> list[BaseRoute]:
    if verifier is None:
        return [Route(settings.path, endpoint)]
    resource = protected_resource(settings, dpop=replay is not None)
    auth = settings.auth
    # nonces: replicas sharing the cache secret accept each other's (RFC 9449 section 9)
    nonces = (
        (NonceIssuer.from_secret(auth.cache_secret) if auth.cache_secret else NonceIssuer())
        if auth.dpop_nonce
        else None
    )
    return protect(
        endpoint,
        verifier,
        resource,
        path=settings.path,
        on_scope_denied=verifier.scope_denied,
        replay=replay,
        nonces=nonces,
    )


def _probes(settings: Settings, verifier: VerificationPipeline | None) -> Middleware:
    """Liveness and readiness, outermost: answered whatever the Host (see `oscal_mcp.health`)."""
    checks: dict[str, Check] = {"content": BundledContentCheck()}
    if verifier is not None:
        checks["verifier"] = verifier.ready
        if settings.auth.cache_url is not None:
            checks["redis"] = RedisProbe(settings.auth.cache_url).check
    return Middleware(Probes, liveness=settings.health_path, readiness=settings.ready_path, checks=checks)


def _tracing(tracer_provider: TracerProvider | None) -> list[Middleware]:
    if tracer_provider is None:
        return []
    from oscal_mcp.tracing import TraceRequests

    return [Middleware(TraceRequests)]


def _middleware(settings: Settings) -> list[Middleware]:
    middleware: list[Middleware] = []
    policy = policy_for(
        bind_host=settings.host,
        resource_url=settings.auth.resource_server_url,
        allowed_hosts=settings.allowed_hosts,
        allowed_origins=settings.allowed_origins,
        cors_origins=settings.cors_origins,
    )
    if policy is not None:
        middleware.append(Middleware(RebindingGuard, policy=policy))
    if settings.cors_origins:
        middleware.append(Middleware(Cors, origins=settings.cors_origins))
    return middleware


def _lifespan(
    server: MCPServer[Any], verifier: VerificationPipeline | None, replay: ReplayCache | None, warm_up: WarmUp
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with server.session_manager.run():
                warm_up.start()
                await exercise(server)  # before the first request, on the server's own event loop
                yield
        finally:
            if verifier is not None:
                await verifier.aclose()
            if replay is not None:
                await replay.aclose()

    return lifespan


def serving_message(settings: Settings) -> str:
    """The start-up line; with auth on it names the one URL clients must use: the metadata's
    `resource` must equal the URL the client connects to (RFC 9728 section 3.3), so SDK clients
    refuse ``localhost`` where the resource says ``127.0.0.1``."""
    listening = f"serving MCP over streamable-http at {settings.public_url}"
    if not settings.auth_enabled:
        return f"{listening} (auth: off)"
    return (
        f"{listening} (auth: {settings.auth.verifier}); clients must connect to exactly "
        f"{settings.auth.resource_server_url} (the resource URL of the metadata, RFC 9728 section 3.3: "
        "another spelling of the host, such as localhost for 127.0.0.1, is refused by clients)"
    )


def serve(settings: Settings) -> None:
    """Serve streamable-http until interrupted (`oscal_mcp.launch.run` has checked the content)."""
    import uvicorn

    from oscal_mcp.http_server import uvicorn_options

    registry = metrics_registry(settings)
    tracer_provider = start_tracing(settings.server_name, os.environ) if tracing_wanted(os.environ) else None
    app = build_http_app(settings, metrics=registry, tracer_provider=tracer_provider)
    stop_metrics = _serve_metrics(settings, registry)
    logger.info(serving_message(settings))
    # log_config=None: uvicorn logs through the root logger, i.e. to stderr like everything else.
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            log_level=settings.log_level.lower(),
            **uvicorn_options(
                header_timeout_seconds=settings.header_timeout_seconds,
                forwarded_allow_ips=settings.forwarded_allow_ips,
            ),
        )
    finally:
        stop_metrics()
        if tracer_provider is not None:
            tracer_provider.shutdown()  # exports the spans still batched


def metrics_registry(settings: Settings) -> CollectorRegistry | None:
    """A new registry when metrics are on (``OSCAL_MCP_METRICS_PORT``); a clear error without the extra."""
    if settings.metrics_port is None:
        return None
    try:
        from oscal_mcp.metrics import new_registry
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"OSCAL_MCP_METRICS_PORT needs the Python package 'prometheus-client' ({exc.name}), which is not "
            "installed; install it with: pip install 'oscal-mcp[metrics]'"
        ) from None
    return new_registry()


def _serve_metrics(settings: Settings, registry: CollectorRegistry | None) -> Callable[[], None]:
    if registry is None or settings.metrics_port is None:
        return lambda: None
    from oscal_mcp.metrics import serve_metrics

    return serve_metrics(registry, settings.metrics_host, settings.metrics_port)
