"""Verifier backends, found by name in the entry-point group ``oscal_mcp_auth.verifiers``.

Built-ins register in this distribution's own pyproject exactly as a third-party plugin does::

    [project.entry-points."oscal_mcp_auth.verifiers"]
    jwt = "oscal_mcp_auth.backends.jwt:create_verifier"

A factory takes the validated `AuthConfig` and returns an object implementing the SDK's
``TokenVerifier`` protocol (``async verify_token(token) -> AccessToken | None``). It may also have
``async aclose()``, called at shutdown. Only the selected entry point is imported, so a broken
plugin that is not selected cannot break start-up.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from mcp.server.auth.provider import TokenVerifier

from oscal_mcp_auth.errors import (
    ConfigurationError,
    MissingExtraError,
    PluginLoadError,
    VerifierNotFoundError,
)
from oscal_mcp_auth.settings import AuthConfig

VERIFIER_GROUP = "oscal_mcp_auth.verifiers"

VerifierFactory = Callable[[AuthConfig], TokenVerifier]

# Modules our built-in backends import, and the extra that installs each.
_EXTRA_OF_MODULE = {"jose": "auth", "httpx": "auth", "cryptography": "auth", "redis": "redis"}


def available_verifiers() -> list[str]:
    """Names of the installed verifier backends, sorted."""
    return sorted({ep.name for ep in entry_points(group=VERIFIER_GROUP)})


def load_factory(name: str) -> VerifierFactory:
    """Import the factory registered under `name`; errors name the plugin and what to do."""
    candidates = list(entry_points(group=VERIFIER_GROUP, name=name))
    if not candidates:
        installed = ", ".join(available_verifiers()) or "none"
        raise VerifierNotFoundError(
            f"OSCAL_AUTH_VERIFIER={name!r} is not an installed verifier; installed: {installed}"
        )
    values = {ep.value for ep in candidates}
    if len(values) > 1:
        raise ConfigurationError(
            f"verifier name {name!r} is registered by several packages ({', '.join(sorted(values))}); "
            "uninstall all but one"
        )
    return _load(candidates[0])


def build_verifier(config: AuthConfig) -> TokenVerifier:
    """Build the backend selected by `config.verifier` (without hooks; see `load_verifier`)."""
    if config.verifier is None:
        raise ConfigurationError("no verifier selected; set OSCAL_AUTH_VERIFIER or OSCAL_AUTH_ISSUER_URL")
    factory = load_factory(config.verifier)
    try:
        verifier = factory(config)
    except ConfigurationError:
        raise
    except Exception as exc:
        raise PluginLoadError(f"verifier '{config.verifier}' failed to start: {type(exc).__name__}: {exc}") from exc
    if not inspect.iscoroutinefunction(getattr(verifier, "verify_token", None)):
        raise PluginLoadError(
            f"verifier '{config.verifier}' returned {type(verifier).__name__}, which has no "
            "'async def verify_token(token)' (the mcp TokenVerifier protocol)"
        )
    return verifier


def _load(entry_point: EntryPoint) -> VerifierFactory:
    try:
        factory = entry_point.load()
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if _is_builtin(entry_point) and top in _EXTRA_OF_MODULE:
            raise MissingExtraError(entry_point.name, top, _EXTRA_OF_MODULE[top]) from exc
        raise _load_error(entry_point, exc) from exc
    except Exception as exc:
        raise _load_error(entry_point, exc) from exc
    if not callable(factory):
        raise PluginLoadError(f"verifier plugin '{entry_point.name}' ({entry_point.value}) is not callable")
    return factory  # type: ignore[no-any-return]


def _is_builtin(entry_point: EntryPoint) -> bool:
    return entry_point.value.startswith("oscal_mcp_auth.")


def _load_error(entry_point: EntryPoint, exc: BaseException) -> PluginLoadError:
    return PluginLoadError(
        f"verifier plugin '{entry_point.name}' ({entry_point.value}) failed to import: {type(exc).__name__}: {exc}"
    )
