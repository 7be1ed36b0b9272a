"""The server's own error root: a bad setting or bundled file is the server's error, not an auth one."""

from __future__ import annotations

from oscal_mcp_auth.redaction import hide_credentials


class OscalMcpError(Exception):
    """Base class of the errors this package raises on purpose."""


class ConfigError(OscalMcpError, ValueError):
    """A server or tool setting, or the bundled content, is unusable; raised before the server
    starts. The message names the setting (or file), the value unless secret, and what is accepted;
    a URL's credentials (``user:password@``, ``?password=``...) are hidden whoever wrote it."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(hide_credentials(arg) if isinstance(arg, str) else arg for arg in args))
