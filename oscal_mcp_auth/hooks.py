"""Hooks that extend verification without writing a whole backend (pluggy, project ``oscal_mcp_auth``).

A hook plugin is any module or object with functions marked ``@hookimpl``, published through the
entry-point group ``oscal_mcp_auth.plugins``::

    [project.entry-points."oscal_mcp_auth.plugins"]
    tenant-check = "my_package.hooks"

Every installed hook plugin is loaded at start-up (as pytest loads its plugins); one that fails to
import stops start-up with its name in the message.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Literal

import pluggy
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth.config import AuthConfig
from oscal_mcp_auth.errors import PluginLoadError

PROJECT = "oscal_mcp_auth"
PLUGIN_GROUP = "oscal_mcp_auth.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True)
class AuthEvent:
    """One authentication or authorization decision, as passed to `oscal_auth_audit`.

    `token_id` is the first 16 hex digits of the token's SHA-256, enough to correlate log lines,
    useless to replay; the token itself is never part of an event.
    """

    outcome: Literal["accept", "reject"]
    reason: str
    verifier: str
    token_id: str
    client_id: str | None = None
    subject: str | None = None
    scopes: tuple[str, ...] = ()


class AuthHookSpecs:
    """The hook specifications. Implementations may omit arguments they do not need."""

    @hookspec
    def oscal_auth_configure(self, config: AuthConfig) -> None:
        """Called once at start-up, after the settings are validated and before any request.

        Read plugin settings from ``config.environ`` here (never from ``os.environ`` later).
        Raise `ConfigurationError` with an actionable message to stop start-up.
        """

    @hookspec
    def oscal_auth_check_token(self, token: AccessToken, config: AuthConfig) -> str | None:
        """Called after the backend accepted a token, before the request proceeds.

        Receives the `AccessToken` the backend built (client id, scopes, subject, claims) and
        the validated settings. Return None to allow, or a short reason word (``tenant_mismatch``)
        to veto: the request then gets a 401 ``invalid_token`` and the reason is logged and
        audited. Every implementation is called and any result other than None vetoes (one
        that is not a non-empty string vetoes with reason ``hook_bad_result``), so no
        implementation can silence another. An implementation that raises vetoes with reason
        ``hook_error``: failures fail closed. Implementations must be plain functions (not
        ``async def``).
        """

    @hookspec
    def oscal_auth_audit(self, event: AuthEvent) -> None:
        """Called once for every decision: each accepted token, each rejected token, and each
        request refused for missing scopes (reason ``insufficient_scope``).

        Every implementation is called; return values are ignored, and an exception is logged
        and swallowed so that auditing can never change a decision. Must not block: it runs on
        the request path.
        """


def create_plugin_manager(*, load_entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with the hookspecs added and, by default, the installed hook plugins."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(AuthHookSpecs)
    if load_entry_points:
        for entry_point in entry_points(group=PLUGIN_GROUP):
            try:
                plugin = entry_point.load()
            except Exception as exc:
                raise PluginLoadError(
                    f"hook plugin '{entry_point.name}' ({entry_point.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            register_plugin(manager, plugin, entry_point.name)
    return manager


def register_plugin(manager: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Register one hook plugin, refusing misspelt hook names and ``async def`` implementations."""
    try:
        manager.register(plugin, name=name)
        manager.check_pending()  # a hook name with no spec (a typo) would otherwise never run
    except pluggy.PluginValidationError as exc:
        manager.unregister(name=name)
        raise PluginLoadError(f"hook plugin '{name}' is invalid: {exc}") from None
    for caller in manager.get_hookcallers(plugin) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin_name == name and inspect.iscoroutinefunction(impl.function):
                manager.unregister(name=name)
                raise PluginLoadError(f"hook plugin '{name}': {caller.name} must be a plain function, not async")
