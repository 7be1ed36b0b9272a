"""The former name of `oscal_mcp_auth.settings`; existing imports keep working."""

from oscal_mcp_auth.settings import AuthConfig, backend_settings

__all__ = ["AuthConfig", "backend_settings"]
