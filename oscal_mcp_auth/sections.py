"""Sections of settings: a snapshot of the environment, one pydantic-settings model per prefix.

`read_environment` takes the snapshot once (a ``.env`` file < the process environment < explicit
overrides such as command-line flags); `load_section` validates one prefix's variables with one
`Section` model, refusing unknown names, and turns the first error into one line that names the
variable (`describe_error`) without echoing a secret or a URL that may carry a password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

from dotenv import dotenv_values
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from oscal_mcp_auth.errors import ConfigurationError

ModelT = TypeVar("ModelT", bound=BaseModel)
_SECRET_WORDS = ("secret", "password", "key")


class Section(BaseSettings):
    """Base of the settings models: frozen, unknown names refused, values from init only.

    `load_section` feeds it one prefix's part of the environment snapshot; constructed in code
    (``JwtSettings(audience=...)``), it takes exactly the values given.
    """

    model_config = SettingsConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def comma_list(value: Any) -> Any:
    """A comma-separated setting as a tuple: items stripped, empties dropped, order kept, no duplicates."""
    if not isinstance(value, str):
        return value
    return tuple(dict.fromkeys(item.strip() for item in value.split(",") if item.strip()))


def read_environment(
    prefix: str,
    *,
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    overrides: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """The variables whose names start with `prefix`; a later source wins: `env_file`, `environ`
    (default ``os.environ``), `overrides` (entries that are None are not given)."""
    merged: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return {name: value for name, value in merged.items() if name.startswith(prefix)}


def load_section(
    model: type[ModelT],
    values: Mapping[str, str],
    prefix: str,
    *,
    error: type[Exception] = ConfigurationError,
    forbid_unknown: bool = True,
    exclude: tuple[str, ...] = (),
    what: str = "this section",
) -> ModelT:
    """Validate the ``<prefix><FIELD>`` entries of `values` with `model` (any pydantic model).

    A blank value counts as unset. With `forbid_unknown`, a name with the prefix that is no field
    is refused (names starting with one of `exclude` belong to another section). Errors are
    raised as `error` with one line naming the variable.
    """
    fields = model.model_fields
    section = {
        name[len(prefix) :].lower(): value
        for name, value in values.items()
        if name.startswith(prefix) and not name.startswith(exclude)
    }
    # A blank value is unset (``NAME=`` in a .env file), except for a list, where it is the empty list.
    section = {key: value for key, value in section.items() if str(value).strip() or _is_list(fields.get(key))}
    if forbid_unknown:
        unknown = sorted(key for key in section if key not in fields)
        if unknown:
            known = ", ".join(prefix + name.upper() for name in fields)
            raise error(f"unknown setting {prefix + unknown[0].upper()}; {what} accepts: {known}")
    else:
        section = {key: value for key, value in section.items() if key in fields}
    try:
        return model.model_validate(section)
    except ValidationError as exc:
        raise error(describe_error(exc.errors()[0], model, section, prefix)) from None


def _is_list(info: FieldInfo | None) -> bool:
    if info is None:
        return False
    annotation = info.annotation
    members = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    return any(get_origin(member) is tuple for member in members)


def describe_error(error: ErrorDetails, model: type[BaseModel], section: Mapping[str, Any], prefix: str) -> str:
    """One line for a pydantic error: ``NAME='value': what is wrong and what is accepted``."""
    if not error["loc"]:
        return f"{prefix.rstrip('_')}: {_message(error)}"
    key = str(error["loc"][0])
    raw = section.get(key)
    # A list's validator names the bad item itself; a secret, or a URL's password, is never shown.
    hidden = raw is None or _secret(model, key, raw) or _is_list(model.model_fields.get(key))
    shown = "" if hidden else f"={raw!r}"
    return f"{prefix + key.upper()}{shown}: {_phrase(error, model.model_fields.get(key)) or _message(error)}"


def _secret(model: type[BaseModel], key: str, raw: Any) -> bool:
    info = model.model_fields.get(key)
    annotation = str(info.annotation) if info is not None else ""
    return "Secret" in annotation or any(word in key for word in _SECRET_WORDS) or "@" in str(raw)  # user:password@


def _phrase(error: ErrorDetails, info: Any) -> str | None:
    kind = error["type"]
    if kind in ("int_parsing", "int_from_float"):
        return "not a whole number"
    if kind == "float_parsing":
        return "not a number"
    if kind == "bool_parsing":
        return "not a boolean; use true or false"
    if kind == "literal_error":
        choices = get_args(getattr(info, "annotation", None))
        return f"not accepted; use one of: {', '.join(map(str, choices))}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return "out of range; use " + _range(getattr(info, "metadata", ()))
    return None


def _range(metadata: Any) -> str:
    """``1 to 65535``, or ``more than 0 and at most 60`` when a bound is exclusive."""
    attrs = ("ge", "gt", "le", "lt")
    bounds = {attr: getattr(item, attr) for item in metadata for attr in attrs if hasattr(item, attr)}
    if "ge" in bounds and "le" in bounds:
        return f"{_number(bounds['ge'])} to {_number(bounds['le'])}"
    words = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
    return " and ".join(f"{words[attr]} {_number(value)}" for attr, value in bounds.items())


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _message(error: ErrorDetails) -> str:
    return str(error["msg"]).removeprefix("Value error, ")
