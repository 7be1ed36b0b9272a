"""Scope hierarchy: a broader scope satisfies a narrower one (``OSCAL_AUTH_SCOPE_IMPLIES``).

``oscal:admin>oscal:write,oscal:write>oscal:read`` means a token with ``oscal:admin`` also holds
``oscal:write`` and ``oscal:read``. Implication is transitive; a cycle is a start-up error (it
would make two scopes the same, which is almost certainly a typo).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from oscal_mcp_auth.errors import ConfigurationError

_SETTING = "OSCAL_AUTH_SCOPE_IMPLIES"


def parse_implications(raw: str, *, setting: str = _SETTING) -> dict[str, frozenset[str]]:
    """The transitive closure of the rules in `raw`: scope -> every scope it implies; errors name
    `setting`."""
    direct: dict[str, set[str]] = {}
    for rule in (part.strip() for part in raw.split(",")):
        if not rule:
            continue
        broader, sep, narrower = (side.strip() for side in rule.partition(">"))
        if not sep or not broader or not narrower or ">" in narrower or " " in broader + narrower:
            raise ConfigurationError(f"{setting}: rule {rule!r} is not 'broader>narrower', e.g. oscal:write>oscal:read")
        direct.setdefault(broader, set()).add(narrower)
    return {scope: frozenset(_reachable(scope, direct, setting)) for scope in direct}


def _reachable(start: str, direct: Mapping[str, set[str]], setting: str) -> set[str]:
    seen: set[str] = set()
    stack = list(direct.get(start, ()))
    while stack:
        scope = stack.pop()
        if scope == start:
            raise ConfigurationError(f"{setting}: the rules form a cycle through {start!r}; remove one rule")
        if scope not in seen:
            seen.add(scope)
            stack.extend(direct.get(scope, ()))
    return seen


def effective_scopes(granted: Iterable[str], implications: Mapping[str, frozenset[str]]) -> list[str]:
    """Granted scopes followed by the implied ones, without duplicates, order kept."""
    result = dict.fromkeys(granted)
    for scope in list(result):
        result.update(dict.fromkeys(sorted(implications.get(scope, ()))))
    return list(result)


def split_scopes(value: str) -> list[str]:
    """A scope string split as RFC 6749 section 3.3 says: on spaces (%x20) only.

    Python's ``str.split()`` would also split on NBSP, U+2003 or U+0085, turning one odd scope
    issued by the AS into two, one of which could be a privileged scope.
    """
    return [scope for scope in value.split(" ") if scope]
