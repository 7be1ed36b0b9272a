"""oscal_mcp_auth: pluggable bearer-token verification for MCP resource servers.

The public surface is small::

    from oscal_mcp_auth import AuthConfig, load_verifier, hookimpl

`load_verifier(config)` builds the backend named by ``OSCAL_AUTH_VERIFIER`` (found through the
``oscal_mcp_auth.verifiers`` entry points) and wraps it with the hook plugins installed under
``oscal_mcp_auth.plugins``. The result implements the MCP SDK's ``TokenVerifier`` protocol.
"""

from oscal_mcp_auth.config import AuthConfig, backend_settings
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
from oscal_mcp_auth.verifier import VerificationPipeline, load_verifier

__all__ = [
    "AuthConfig",
    "AuthError",
    "AuthEvent",
    "ConfigurationError",
    "MissingExtraError",
    "PluginLoadError",
    "TokenRejected",
    "VerificationPipeline",
    "VerifierNotFoundError",
    "available_verifiers",
    "backend_settings",
    "hookimpl",
    "hookspec",
    "load_verifier",
]
