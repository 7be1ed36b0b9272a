"""The server's own error root: a bad setting or bundled file is the server's error, not an auth one."""

from __future__ import annotations


class OscalMcpError(Exception):
    """Base class of the errors this package raises on purpose."""


class ConfigError(OscalMcpError, ValueError):
    """A server or tool setting, or the bundled content, is unusable; raised before the server
    starts. The message names the setting (or file), the value unless secret, and what is accepted."""
