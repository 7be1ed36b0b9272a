"""oscal_mcp_auth: pluggable bearer-token verification for MCP resource servers.

The public surface is small::

    from oscal_mcp_auth import AuthConfig, ProtectedResource, load_verifier, protect, hookimpl

    config = AuthConfig.from_environment(prefix="OSCAL_AUTH_")  # .env < environment < overrides

`load_verifier(config)` builds the backend named by ``OSCAL_AUTH_VERIFIER`` (found through the
``oscal_mcp_auth.verifiers`` entry points) and wraps it with the hook plugins installed under
``oscal_mcp_auth.plugins``. The result implements the MCP SDK's ``TokenVerifier`` protocol.

`protect(endpoint, verifier, resource)` returns the routes of a protected MCP endpoint of any MCP
SDK v2 server: the RFC 9728 metadata and the endpoint behind `BearerAuth`, our ASGI wrapper::

    mcp = MCPServer("echo")
    resource = ProtectedResource("https://mcp.example.com/mcp", authorization_servers=(issuer,))
    app = Starlette(
        routes=protect(mcp.streamable_http_app(), verifier, resource),
        lifespan=lambda app: mcp.session_manager.run(),
    )
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oscal_mcp_auth.asgi import BearerAuth, BindingVerifier, ScopeDenied, protect
    from oscal_mcp_auth.dpop import DPoPPolicy
    from oscal_mcp_auth.errors import (
        AuthError,
        ConfigurationError,
        MissingExtraError,
        PluginLoadError,
        TokenRejected,
        VerifierNotFoundError,
    )
    from oscal_mcp_auth.hooks import AuthEvent, hookimpl, hookspec
    from oscal_mcp_auth.registry import available_verifiers
    from oscal_mcp_auth.replay import ReplayCache
    from oscal_mcp_auth.resource import ProtectedResource
    from oscal_mcp_auth.sections import Section, read_environment
    from oscal_mcp_auth.settings import DEFAULT_PREFIX, AuthConfig, backend_settings
    from oscal_mcp_auth.verifier import VerificationPipeline, load_verifier

    __version__: str

# Each public name and the module that defines it, imported at the name's first use (PEP 562): a
# program that only reads settings (`sections`, `settings`) or hides credentials (`redaction`),
# such as oscal-mcp over stdio, never loads the verifiers, the ASGI wrapper, pluggy or the crypto.
_HOMES = {
    "BearerAuth": "asgi",
    "BindingVerifier": "asgi",
    "ScopeDenied": "asgi",
    "protect": "asgi",
    "DPoPPolicy": "dpop",
    "AuthError": "errors",
    "ConfigurationError": "errors",
    "MissingExtraError": "errors",
    "PluginLoadError": "errors",
    "TokenRejected": "errors",
    "VerifierNotFoundError": "errors",
    "AuthEvent": "hooks",
    "hookimpl": "hooks",
    "hookspec": "hooks",
    "available_verifiers": "registry",
    "ReplayCache": "replay",
    "ProtectedResource": "resource",
    "Section": "sections",
    "read_environment": "sections",
    "DEFAULT_PREFIX": "settings",
    "AuthConfig": "settings",
    "backend_settings": "settings",
    "VerificationPipeline": "verifier",
    "load_verifier": "verifier",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":  # shipped in the oscal-mcp distribution: one version for both packages
        from importlib.metadata import version

        value: Any = version("oscal-mcp")
    elif name in _HOMES:
        value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES, "__version__"})


__all__ = [
    "DEFAULT_PREFIX",
    "AuthConfig",
    "AuthError",
    "AuthEvent",
    "BearerAuth",
    "BindingVerifier",
    "ConfigurationError",
    "DPoPPolicy",
    "MissingExtraError",
    "PluginLoadError",
    "ProtectedResource",
    "ReplayCache",
    "ScopeDenied",
    "Section",
    "TokenRejected",
    "VerificationPipeline",
    "VerifierNotFoundError",
    "available_verifiers",
    "backend_settings",
    "hookimpl",
    "hookspec",
    "load_verifier",
    "protect",
    "read_environment",
]
