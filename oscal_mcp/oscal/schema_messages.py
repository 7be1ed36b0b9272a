"""Messages for JSON Schema errors that say why a value fails without ever quoting the value.

jsonschema-rs's own messages quote the offending value, so a file that is not OSCAL at all (a
``.env``...) would come back in the errors. `message` rebuilds each message from the error's kind
(the keyword and the schema's own values: types, property names, allowed values, patterns, limits)
and a description of the value (``a string of 37 characters``), never the value. Unexpected
property names are named (clipped): the document's keys appear in JSON paths anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oscal_mcp.oscal.schemas import definition_description
from oscal_mcp.oscal.text import clip

MAX_NAMES_SHOWN = 5
MAX_SCHEMA_VALUES_SHOWN = 20
MAX_NAME_CHARS = 60
MAX_PATTERN_CHARS = 100


def describe(value: Any) -> str:
    """What kind of value `value` is, without any of its content."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return f"a string of {_count(len(value), 'character')}"
    if isinstance(value, list):
        return f"an array of {_count(len(value), 'item')}"
    if isinstance(value, dict):
        return f"an object with {_count(len(value), 'property', 'properties')}"
    return f"a {type(value).__name__} value"


def message(error: Any, schema: tuple[str, str]) -> str:
    """The reason for a jsonschema-rs `error` in words, with the value replaced by `describe`.

    `schema` is the (model name, version) of the schema that raised it, to name NIST's datatypes.
    """
    what = describe(error.instance)
    keyword = str(error.kind.name)
    fields: dict[str, Any] = error.kind.as_dict()
    if keyword == "pattern":
        return _pattern(what, str(fields.get("pattern", "")), list(error.schema_path), schema)
    build = _MESSAGES.get(keyword)
    if build is None:
        return f"{what} does not satisfy the schema keyword {clip(keyword, MAX_NAME_CHARS)!r}"
    return build(what, fields)


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _names(values: list[Any], limit: int = MAX_NAMES_SHOWN) -> str:
    shown = ", ".join(_name(v) for v in values[:limit])
    more = len(values) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _name(value: Any) -> str:
    return repr(clip(value, MAX_NAME_CHARS)) if isinstance(value, str) else clip(repr(value), MAX_NAME_CHARS)


def _pattern(what: str, pattern: str, schema_path: list[Any], schema: tuple[str, str]) -> str:
    """A pattern failure, naming NIST's datatype (e.g. TokenDatatype) and what it requires."""
    text = f"{what} does not match {clip(repr(pattern), MAX_PATTERN_CHARS)}"
    if "definitions" not in schema_path:
        return text
    at = len(schema_path) - 1 - schema_path[::-1].index("definitions")
    definition = str(schema_path[at + 1]) if at + 1 < len(schema_path) else ""
    described = definition_description(schema[0], schema[1], definition) if definition else None
    return f"{text} ({definition}: {described})" if described else f"{text} ({definition})"


def _type(what: str, fields: dict[str, Any]) -> str:
    types = fields.get("types") or []
    listed = types if isinstance(types, list) else [types]
    return f"{what} is not of type {', '.join(repr(str(t)) for t in listed)}"


def _required(what: str, fields: dict[str, Any]) -> str:
    name = fields.get("property")
    return f"{name!r} is a required property" if isinstance(name, str) else f"{what} lacks a required property"


def _additional(what: str, fields: dict[str, Any]) -> str:
    extras = list(fields.get("unexpected") or [])
    verb = "was" if len(extras) == 1 else "were"
    return f"Additional properties are not allowed ({_names(extras)} {verb} unexpected)"


def _simple(template: str, key: str) -> Callable[[str, dict[str, Any]], str]:
    """A message from a template with {what} (the value described) and {value} (the schema's `key`)."""

    def build(what: str, fields: dict[str, Any]) -> str:
        value = fields.get(key)
        shown = _names(value, MAX_SCHEMA_VALUES_SHOWN) if isinstance(value, list) else clip(repr(value), 200)
        return template.format(what=what, value=shown)

    return build


def _fixed(template: str) -> Callable[[str, dict[str, Any]], str]:
    """A message that names only the value's kind (the keyword's own value says nothing useful)."""
    return lambda what, fields: template.format(what=what)


_MESSAGES: dict[str, Callable[[str, dict[str, Any]], str]] = {
    "type": _type,
    "required": _required,
    "additionalProperties": _additional,
    "enum": _simple("{what} is not one of {value}", "options"),
    "const": _simple("{value} was expected, not {what}", "expected_value"),
    "format": _simple("{what} is not a valid {value}", "format"),
    "minLength": _simple("{what} is too short: at least {value} character(s) expected", "limit"),
    "maxLength": _simple("{what} is too long: at most {value} character(s) expected", "limit"),
    "minItems": _simple("{what} is too short: at least {value} item(s) expected", "limit"),
    "maxItems": _simple("{what} is too long: at most {value} item(s) expected", "limit"),
    "minProperties": _simple("{what} has too few properties: at least {value} expected", "limit"),
    "maxProperties": _simple("{what} has too many properties: at most {value} expected", "limit"),
    "minimum": _simple("{what} is less than the minimum of {value}", "limit"),
    "maximum": _simple("{what} is more than the maximum of {value}", "limit"),
    "exclusiveMinimum": _simple("{what} is less than or equal to the minimum of {value}", "limit"),
    "exclusiveMaximum": _simple("{what} is more than or equal to the maximum of {value}", "limit"),
    "multipleOf": _simple("{what} is not a multiple of {value}", "multiple_of"),
    "uniqueItems": _fixed("{what} has non-unique items"),
    "anyOf": _fixed("{what} is not valid under any of the given schemas"),
    "oneOf": _fixed("{what} is not valid under exactly one of the given schemas"),
    "not": _fixed("{what} must not be valid under the schema given in 'not'"),
    "falseSchema": _fixed("{what} is not allowed here (the schema is false)"),
}
