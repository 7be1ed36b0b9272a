"""Profile resolution: a profile and the catalogs (or profiles) it imports, resolved by trestle.

Imports resolve to documents already in the store, never to the network or to arbitrary files:
``#uuid`` names a back-matter resource whose links are tried in turn; a relative path is looked up
next to the importing document; otherwise the file name decides, without its extension (NIST's
baselines import ``NIST_SP-800-53_rev5_catalog.xml``, which is the bundled ``.json``) and without a
``-min`` suffix. The documents of one resolution are written, with their import hrefs rewritten to
``trestle://`` names, to a private temporary directory used as trestle's workspace, and trestle's
`ProfileResolver` (selection, merge, parameter settings, alterations) does the rest. Results are
kept in a small bounded cache: the store does not change once built.
"""

from __future__ import annotations

import json
import posixpath
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from oscal_mcp.oscal.catalogs import controls, params_by_id, statement_text
from oscal_mcp.oscal.objects import child, dicts, string
from oscal_mcp.oscal.store import DocumentStore, StoredDocument
from oscal_mcp.oscal.text import clip

MAX_IMPORTED_DOCUMENTS = 20
MAX_CACHED_RESOLUTIONS = 8
MAX_ERROR_CHARS = 600
_IMPORTABLE = ("catalog", "profile")
_SUFFIXES = (".json", ".xml", ".yaml", ".yml")


class ProfileResolutionError(Exception):
    """The profile cannot be resolved: an import names no document in the store, too many
    documents, or trestle refused the documents; the message says which and why."""


@dataclass(frozen=True)
class ResolvedControl:
    id: str
    title: str
    context: dict[str, str]
    params: list[dict[str, Any]]
    statement: str
    control: dict[str, Any]


@dataclass(frozen=True)
class ResolvedProfile:
    profile: StoredDocument
    sources: list[StoredDocument]
    controls: list[ResolvedControl]


# -- which document an import means ---------------------------------------------------------------


def import_target(store: DocumentStore, importer: StoredDocument, href: str) -> StoredDocument:
    """The catalog or profile in the store that `importer`'s import `href` refers to."""
    if href.startswith("#"):
        return _back_matter_target(store, importer, href[1:])
    found = _href_target(store, importer, href)
    if found is None:
        raise ProfileResolutionError(
            f"{importer.source} imports {clip(href, 200)!r}, which is not in the document store; add that "
            "catalog or profile to the documents directory (imports are never fetched from the network)"
        )
    return found


def _back_matter_target(store: DocumentStore, importer: StoredDocument, uuid: str) -> StoredDocument:
    resources = dicts(child(importer.body, "back-matter"), "resources")
    resource = next((r for r in resources if string(r, "uuid").lower() == uuid.lower()), None)
    if resource is None:
        raise ProfileResolutionError(f"{importer.source} imports '#{clip(uuid, 60)}', not a back-matter resource of it")
    hrefs = [string(link, "href") for link in dicts(resource, "rlinks")]
    for href in hrefs:
        found = _href_target(store, importer, href)
        if found is not None:
            return found
    shown = ", ".join(repr(clip(h, 120)) for h in hrefs[:5]) or "no links"
    raise ProfileResolutionError(
        f"{importer.source} imports back-matter resource {clip(uuid, 60)} ({shown}), and none of its links "
        "is a document in the store; add that catalog or profile to the documents directory"
    )


def _href_target(store: DocumentStore, importer: StoredDocument, href: str) -> StoredDocument | None:
    parts = urlsplit(href.strip())
    candidates = [d for d in store.documents if d.model in _IMPORTABLE and d is not importer]
    wanted = _relative_path(importer, parts.scheme, parts.netloc, parts.path)
    same_place = [d for d in candidates if d.origin == importer.origin and d.path == wanted]
    if same_place:
        return same_place[0]
    stem = _stem(posixpath.basename(parts.path))
    named = [d for d in candidates if stem and _stem(d.file_name) == stem]
    named.sort(key=lambda d: (d.origin != importer.origin, d.origin != "bundled"))
    return named[0] if named else None


def _relative_path(importer: StoredDocument, scheme: str, netloc: str, path: str) -> str | None:
    """The store path a relative href (from the importer's folder) or a trestle:// href (from the
    documents directory) names; None for absolute URLs and paths."""
    if scheme == "trestle":
        return posixpath.normpath(netloc + path)
    if scheme or netloc or not path or path.startswith("/"):
        return None
    return posixpath.normpath(posixpath.join(posixpath.dirname(importer.path), path))


def _stem(name: str) -> str:
    lowered = name.lower()
    for suffix in _SUFFIXES:
        lowered = lowered.removesuffix(suffix)
    return lowered.removesuffix("-min")


# -- resolution -----------------------------------------------------------------------------------


def resolve(store: DocumentStore, profile: StoredDocument) -> ResolvedProfile:
    """Resolve `profile` with trestle against documents of the store (blocking: call it in a thread)."""
    if profile.model != "profile":
        raise ProfileResolutionError(f"{profile.source} is a {profile.model}, not a profile")
    graph = _import_graph(store, profile)
    with tempfile.TemporaryDirectory(prefix="oscal-mcp-resolve-") as workspace:
        root = Path(workspace)
        (root / ".trestle").mkdir()
        for document, targets in graph.items():
            (root / _file(document)).write_text(json.dumps(_rewritten(document, targets)), encoding="utf-8")
        resolved = _run_trestle(root, profile, _invalid_note(graph))
    sources = [d for d in graph if d is not profile]
    return ResolvedProfile(profile, sources, list(_resolved_controls(resolved)))


def _import_graph(store: DocumentStore, profile: StoredDocument) -> dict[StoredDocument, list[StoredDocument]]:
    """Every document the resolution reads, with the targets of its imports in order."""
    graph: dict[StoredDocument, list[StoredDocument]] = {}
    pending = [profile]
    while pending:
        document = pending.pop()
        if document in graph:
            continue
        if len(graph) >= MAX_IMPORTED_DOCUMENTS:
            raise ProfileResolutionError(
                f"{profile.source} imports more than {MAX_IMPORTED_DOCUMENTS} documents (directly and through "
                "other profiles); resolve a smaller profile"
            )
        imports = dicts(document.body, "imports") if document.model == "profile" else []
        targets = [import_target(store, document, string(imported, "href")) for imported in imports]
        graph[document] = targets
        pending.extend(targets)
    return graph


def _invalid_note(graph: dict[StoredDocument, list[StoredDocument]]) -> str:
    """Which documents of the resolution NIST's schema rejects: the likely cause of a failure."""
    invalid = [d for d in graph if d.check.status == "invalid"]
    if not invalid:
        return ""
    named = "; ".join(f"{d.source}: {d.check.summary()}" for d in invalid[:3])
    return (
        f"NIST's schema rejects {clip(named, MAX_ERROR_CHARS)}; fix that first (validate_oscal_file lists "
        "every error). "
    )


def _file(document: StoredDocument) -> str:
    return f"document-{document.number}.json"


def _rewritten(document: StoredDocument, targets: list[StoredDocument]) -> dict[str, Any]:
    body = dict(document.body)
    if document.model == "profile":
        imports = dicts(document.body, "imports")
        body["imports"] = [{**imp, "href": f"trestle://{_file(t)}"} for imp, t in zip(imports, targets, strict=True)]
    return {document.model: body}


def _run_trestle(root: Path, profile: StoredDocument, invalid_note: str) -> dict[str, Any]:
    from trestle.common.err import TrestleError
    from trestle.core.profile_resolver import ProfileResolver

    try:
        catalog = ProfileResolver.get_resolved_profile_catalog(root, f"trestle://{_file(profile)}")
    except (TrestleError, ValueError, KeyError, TypeError) as exc:
        message = clip(" ".join(str(exc).replace(str(root), "").split()), MAX_ERROR_CHARS)
        raise ProfileResolutionError(
            f"trestle could not resolve {profile.source}: {invalid_note}Trestle's message: {message}"
        ) from None
    resolved: dict[str, Any] = catalog.oscal_dict()["catalog"]
    return resolved


def _resolved_controls(catalog: dict[str, Any]) -> Iterator[ResolvedControl]:
    found = list(controls(catalog))
    params = params_by_id(f.obj for f in found)
    for control in found:
        yield ResolvedControl(
            id=control.ref,
            title=control.title,
            context=control.context,
            params=dicts(control.obj, "params"),
            statement=statement_text(control.obj, params),
            control=control.obj,
        )


class ResolutionCache:
    """The last MAX_CACHED_RESOLUTIONS resolutions, by profile; resolving is serialized by a lock so
    two first calls for one profile resolve it once."""

    def __init__(self, size: int = MAX_CACHED_RESOLUTIONS) -> None:
        self._size = size
        self._entries: OrderedDict[int, ResolvedProfile] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: DocumentStore, profile: StoredDocument) -> ResolvedProfile:
        with self._lock:
            cached = self._entries.get(profile.number)
            if cached is not None:
                self._entries.move_to_end(profile.number)
                return cached
            resolved = resolve(store, profile)
            self._entries[profile.number] = resolved
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
            return resolved

    def __len__(self) -> int:
        return len(self._entries)
