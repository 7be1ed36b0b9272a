"""Metaschema's data types, for ``matches datatype=``: is a value of the type?

The definitions follow the Metaschema specification's data type section (pages.nist.gov/metaschema,
"Data types"); the patterns here are this project's own, written from those definitions.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import date, datetime

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?")
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}")
_URI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S*")
_NO_SPACE = re.compile(r"\S*")
_INTEGER = re.compile(r"[-+]?[0-9]+")
_TOKEN = re.compile(r"[^\s:]+")


def _is_date(value: str) -> bool:
    match = _DATE.fullmatch(value)
    if match is None:
        return False
    try:
        date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


def _is_date_time(value: str, *, zone_required: bool) -> bool:
    match = _DATE_TIME.fullmatch(value)
    if match is None or (zone_required and match[6] is None) or not _is_date(match[1]):
        return False
    try:
        datetime.strptime(f"{match[2]}:{match[3]}:{match[4]}", "%H:%M:%S")
    except ValueError:
        return False
    return True


def _is_ip(kind: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address], value: str) -> bool:
    try:
        kind(value)
    except ValueError:
        return False
    return True


DATATYPES: dict[str, Callable[[str], bool]] = {
    "date": _is_date,
    "date-with-timezone": lambda v: _is_date(v) and bool((m := _DATE.fullmatch(v)) and m[4]),
    "date-time": lambda v: _is_date_time(v, zone_required=False),
    "date-time-with-timezone": lambda v: _is_date_time(v, zone_required=True),
    "integer": lambda v: _INTEGER.fullmatch(v) is not None,
    "non-negative-integer": lambda v: _INTEGER.fullmatch(v) is not None and int(v) >= 0,
    "positive-integer": lambda v: _INTEGER.fullmatch(v) is not None and int(v) > 0,
    "uuid": lambda v: _UUID.fullmatch(v) is not None,
    "uri": lambda v: _URI.fullmatch(v) is not None,
    "uri-reference": lambda v: _NO_SPACE.fullmatch(v) is not None,
    "token": lambda v: _TOKEN.fullmatch(v) is not None,
    "string": lambda v: v.strip() != "",
    "ip-v4-address": lambda v: _is_ip(ipaddress.IPv4Address, v),
    "ip-v6-address": lambda v: _is_ip(ipaddress.IPv6Address, v),
}


def is_of_type(datatype: str, value: str) -> bool:
    """Whether `value` is of the Metaschema type `datatype` (KeyError for an unknown type)."""
    return DATATYPES[datatype](value)
