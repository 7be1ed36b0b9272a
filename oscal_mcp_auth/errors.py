"""Exceptions raised by oscal_mcp_auth.

Configuration problems are raised at start-up and carry a message a user can act on (the setting,
the bad value, what is accepted). Token rejections are internal to the request path: they carry a
stable reason word for logs and audit hooks, never the token itself.
"""

from __future__ import annotations

from oscal_mcp_auth.redaction import hide_credentials


class AuthError(Exception):
    """Base class of every error this library raises."""


class ConfigurationError(AuthError, ValueError):
    """A setting is missing, malformed or inconsistent; raised before the server starts.

    The message is printed and logged: whatever a caller or plugin puts in it, the credentials of
    a URL it quotes (``user:password@``, ``?password=``, ``?client_secret=``...) are hidden.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(hide_credentials(arg) if isinstance(arg, str) else arg for arg in args))


class VerifierNotFoundError(ConfigurationError):
    """The selected verifier name is not registered in the entry-point group."""


class PluginLoadError(ConfigurationError):
    """A verifier or hook plugin failed to import or to build; the message names the plugin."""


class MissingExtraError(ConfigurationError):
    """A backend needs a library that is not installed; the message names the extra to install."""

    def __init__(self, backend: str, module: str, extra: str = "auth") -> None:
        super().__init__(
            f"the '{backend}' verifier needs the Python package '{module}', which is not installed; "
            f"install it with: pip install 'oscal-mcp[{extra}]'"
        )
        self.backend = backend
        self.module = module
        self.extra = extra


class TokenRejected(AuthError):
    """A backend refused a token.

    `reason` is a stable, machine-readable word (``expired``, ``bad_signature``,
    ``wrong_audience``...) that goes to logs and audit hooks; `detail` is a short human
    explanation. Neither may contain the token or any secret.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
