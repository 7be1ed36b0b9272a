"""Which control ids an SSP's ``import-profile`` href offers, for the beyond-NIST checks.

Resolved from the bundled NIST SP 800-53 rev 5 content only, by file name (without extension and
``-min`` suffix, as profile resolution does): the catalog offers all its controls, a baseline the
controls it includes by id. Anything else is not resolved (no check). The result is cached.
"""

from __future__ import annotations

import json
import posixpath
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from oscal_mcp.content import bundled_paths, read_bundled
from oscal_mcp.oscal.catalogs import controls
from oscal_mcp.oscal.objects import dicts, strings

NIST_FOLDER = "nist/"


def _stem(href: str) -> str:
    name = posixpath.basename(urlsplit(href).path)
    stem = name.rsplit(".", 1)[0]
    return stem.removesuffix("-min")


@cache
def _bundled_by_stem() -> dict[str, str]:
    return {_stem(path): path for path in bundled_paths(NIST_FOLDER) if path.endswith(".json")}


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
    path = _bundled_by_stem().get(_stem(href))
    return _ids_of(path) if path else None
