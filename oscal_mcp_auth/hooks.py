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
import re
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Literal

import pluggy
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth.config import AuthConfig
from oscal_mcp_auth.errors import PluginLoadError
from oscal_mcp_auth.telemetry.specs import TelemetryHookSpecs

PROJECT = "oscal_mcp_auth"
PLUGIN_GROUP = "oscal_mcp_auth.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
BAD_RESULT = "hook_bad_result"
_REASON_WORD = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # what a veto reason may look like in a log line


@dataclass(frozen=True)
class AuthEvent:
    """One authentication or authorization decision, as passed to `oscal_auth_audit`.

    `token_id` is the first 16 hex digits of the SHA-256 of the token's canonical spelling
    (`jws.fingerprint`: an ES* token and its ECDSA twin share it), enough to correlate log lines,
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
        ``async def``) and must not be wrappers (``wrapper=True`` or ``hookwrapper=True``): a
        wrapper decides the result of every implementation it wraps, so a forgotten ``return``
        would silence every veto. Such plugins are refused at start-up.
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
    manager.add_hookspecs(TelemetryHookSpecs)
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
    try:
        refuse_veto_wrappers(manager)
    except PluginLoadError:
        manager.unregister(name=name)
        raise


def refuse_veto_wrappers(manager: pluggy.PluginManager) -> None:
    """Refuse any wrapper around ``oscal_auth_check_token``: it could replace every veto."""
    for impl in manager.hook.oscal_auth_check_token.get_hookimpls():
        if impl.wrapper or impl.hookwrapper:
            raise PluginLoadError(
                f"hook plugin '{impl.plugin_name}': oscal_auth_check_token must not be a wrapper "
                "(wrapper=True or hookwrapper=True), since a wrapper decides the result of every veto; "
                "make it a plain implementation (return None to allow)"
            )


def veto_reason(results: object) -> str | None:
    """What the results of ``oscal_auth_check_token`` mean: None to allow, else the veto reason.

    pluggy returns the list of results that are not None, each one a veto. Anything that is not
    exactly that shape (a wrapper could return anything) vetoes with reason ``hook_bad_result``.
    """
    if not isinstance(results, list):
        return BAD_RESULT
    if not results:
        return None
    first = results[0]
    return first if isinstance(first, str) and _REASON_WORD.fullmatch(first) else BAD_RESULT
