"""Which control ids an SSP's ``import-profile`` href offers, for the beyond-NIST checks.

First the bundled NIST SP 800-53 rev 5 content, by file name (without extension and ``-min``
suffix, as profile resolution does): the catalog offers all its controls, a baseline the controls
it includes by id (cached). Then, when the caller has the document store, a stored catalog or
profile (`store_control_ids`, a module of its own: the store imports this one). Anything else is
not resolved, and the check is not made.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from oscal_mcp.content import bundled_paths, read_bundled
from oscal_mcp.oscal.catalogs import controls
from oscal_mcp.oscal.objects import dicts, strings

NIST_FOLDER = "nist/"
ControlIdSource = Callable[[str], frozenset[str] | None]


def href_stem(href: str) -> str:
    """The file name `href` ends in, without its extension and ``-min`` suffix."""
    name = posixpath.basename(urlsplit(href).path)
    stem = name.rsplit(".", 1)[0]
    return stem.removesuffix("-min")


@cache
def _bundled_by_stem() -> dict[str, str]:
    return {href_stem(path): path for path in bundled_paths(NIST_FOLDER) if path.endswith(".json")}


@cache
def _ids_of(path: str) -> frozenset[str] | None:
    document: dict[str, Any] = json.loads(read_bundled(path))
    if "catalog" in document:
        return frozenset(found.ref for found in controls(document["catalog"]))
    if "profile" in document:
        imports = dicts(document["profile"], "imports")
        ids = {i for imported in imports for s in dicts(imported, "include-controls") for i in strings(s, "with-ids")}
        return frozenset(ids) or None
    return None


def bundled_control_ids(href: str) -> frozenset[str] | None:
    """The control ids of the bundled catalog or baseline `href` names; None when none matches."""
    path = _bundled_by_stem().get(href_stem(href))
    return _ids_of(path) if path else None
