"""Every setting the installed server knows, for ``oscal-mcp settings``.

The names, defaults and secrecy come from the settings models themselves: the server's, the
tools', the auth library's, and every backend or hook plugin installed (their modules are
imported through the ``oscal_mcp_auth.verifiers`` and ``oscal_mcp_auth.plugins`` entry points,
and each `Section` model whose ``env_prefix`` names its variables is listed). The one line of
meaning comes from ``dotenv.example``, the commented file that documents every variable
(`dotenv_meanings`); a test keeps the two in step.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

from oscal_mcp.config import SERVER_PREFIX, ServerSettings
from oscal_mcp.tools.settings import PREFIX as TOOLS_PREFIX
from oscal_mcp.tools.settings import ToolSettings
from oscal_mcp_auth.redaction import hide_credentials
from oscal_mcp_auth.sections import Section
from oscal_mcp_auth.settings import DEFAULT_PREFIX as AUTH_PREFIX
from oscal_mcp_auth.settings import AuthFields

PLUGIN_GROUPS = ("oscal_mcp_auth.verifiers", "oscal_mcp_auth.plugins")
_VARIABLE = re.compile(r"^#?(OSCAL_[A-Z0-9_]+)=")
_SENTENCE_END = re.compile(r"(?<!e\.g\.)(?<!i\.e\.)(?<=\.)\s")
_SECRET_WORDS = ("SECRET", "PASSWORD")
MASK = "********"


@dataclass(frozen=True)
class SettingsGroup:
    title: str
    prefix: str
    model: type[BaseModel]


@dataclass(frozen=True)
class Setting:
    name: str
    group: str
    default: str
    meaning: str
    secret: bool


def settings_groups() -> tuple[list[SettingsGroup], list[str]]:
    """The settings models, built-ins first, then each installed backend's or plugin's; and a note
    for each plugin module that could not be imported (e.g. an extra that is not installed)."""
    groups = [
        SettingsGroup("server", SERVER_PREFIX, ServerSettings),
        SettingsGroup("OSCAL tools", TOOLS_PREFIX, ToolSettings),
        SettingsGroup("authentication (streamable-http only)", AUTH_PREFIX, AuthFields),
    ]
    notes = _import_plugin_modules()
    seen = {group.prefix for group in groups}
    for model in sorted(_section_models(Section), key=lambda m: str(m.model_config.get("env_prefix"))):
        prefix = str(model.model_config.get("env_prefix") or "")
        if prefix.startswith(AUTH_PREFIX) and prefix not in seen:
            seen.add(prefix)
            groups.append(SettingsGroup(f"{prefix}* ({model.__module__})", prefix, model))
    return groups, notes


def all_settings(meanings: Mapping[str, str] | None = None) -> tuple[list[Setting], list[str]]:
    """Every setting with its default and meaning (from `dotenv_meanings` unless given)."""
    meanings = dotenv_meanings() if meanings is None else meanings
    groups, notes = settings_groups()
    found = [
        Setting(
            name=group.prefix + field.upper(),
            group=group.title,
            default=_shown_default(info.default, info.default_factory),
            meaning=meanings.get(group.prefix + field.upper(), ""),
            secret=_is_secret(group.prefix + field.upper(), info.annotation),
        )
        for group in groups
        for field, info in group.model.model_fields.items()
    ]
    return found, notes


def dotenv_meanings(text: str | None = None) -> dict[str, str]:
    """Variable name -> the first sentence of the comment block above it in ``dotenv.example``.

    A block describes every variable line that follows it (``#NAME=`` lines, the commented-out
    examples, included) until the next comment or blank line; the first block naming a variable wins.
    """
    meanings: dict[str, str] = {}
    block: list[str] = []
    after_variable = False
    for line in (dotenv_example_text() if text is None else text).splitlines():
        match = _VARIABLE.match(line)
        if match:
            meanings.setdefault(match.group(1), _first_sentence(" ".join(block)))
            after_variable = True
        elif line.startswith("#") and not line.startswith("# ---"):
            if after_variable:
                block, after_variable = [], False
            block.append(line.lstrip("#").strip())
        else:
            block, after_variable = [], False
    return meanings


def dotenv_example_text() -> str:
    """``dotenv.example``: inside the installed package, or at the root of a source checkout."""
    packaged = files("oscal_mcp").joinpath("dotenv.example")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parent.parent / "dotenv.example"
    return checkout.read_text(encoding="utf-8")


def current_value(setting: Setting, values: Mapping[str, str]) -> str | None:
    """The value set for `setting` in a snapshot of the settings, masked where it is secret."""
    raw = values.get(setting.name)
    if raw is None:
        return None
    if setting.secret and raw.strip():
        return MASK
    return hide_credentials(raw, userinfo=MASK + "@", value=MASK)  # the parser errors and logs use


def render(
    settings: list[Setting], notes: list[str], values: Mapping[str, str], sources: Mapping[str, str]
) -> Iterator[str]:
    """The text ``oscal-mcp settings`` prints: per group, each setting's name, its default, its
    current value with where it came from, and its meaning; then names set that match no setting."""
    group = None
    for setting in settings:
        if setting.group != group:
            group = setting.group
            yield f"\n# {group}"
        current = current_value(setting, values)
        now = "(default)" if current is None else f"{current!r} (from {sources.get(setting.name, 'environment')})"
        yield f"{setting.name}"
        yield f"    default: {setting.default}    current: {now}"
        yield f"    {setting.meaning or '(not described in dotenv.example)'}"
    known = {setting.name for setting in settings}
    unknown = sorted(name for name in values if name not in known)
    if unknown:
        yield "\n# set, but not a setting of anything installed (start-up refuses the misspelt ones)"
        yield from (f"{name} (from {sources.get(name, 'environment')})" for name in unknown)
    yield from (f"\nnote: {note}" for note in notes)
    if any("oscal_mcp_auth." in note for note in notes):
        yield "note: the built-in jwt and introspection verifiers need the auth extra: pip install 'oscal-mcp[auth]'"


def _import_plugin_modules() -> list[str]:
    notes = []
    for group in PLUGIN_GROUPS:
        for entry in entry_points(group=group):
            try:
                importlib.import_module(entry.module)
            except Exception as exc:  # a plugin that cannot be imported still lets the others be listed
                notes.append(f"{entry.name} ({entry.value}) could not be imported; its settings are not listed: {exc}")
    return notes


def _section_models(base: type[Section]) -> Iterator[type[Section]]:
    for model in base.__subclasses__():
        yield model
        yield from _section_models(model)


def _shown_default(default: Any, factory: Any) -> str:
    if factory is not None:
        default = factory()
    if default is PydanticUndefined:
        return "(required)"
    if default is None or default == ():
        return "(unset)"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, tuple | frozenset):
        return ",".join(str(item) for item in default)
    return str(default)


def _is_secret(name: str, annotation: Any) -> bool:
    if name.endswith("_FILE"):
        return False  # a path to the secret, not the secret
    return "SecretStr" in str(annotation) or annotation is SecretStr or any(word in name for word in _SECRET_WORDS)


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0] if text else ""
