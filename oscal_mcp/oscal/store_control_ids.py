"""Which control ids an SSP's ``import-profile`` href offers when the document store is built:
the bundled content first (`control_sources`), then a stored catalog (its controls) or a stored
profile (resolved with the profile resolver, `profiles.ResolutionCache`)."""

from __future__ import annotations

from oscal_mcp.oscal.catalogs import controls
from oscal_mcp.oscal.control_sources import ControlIdSource, bundled_control_ids, href_stem
from oscal_mcp.oscal.profiles import ProfileResolutionError, ResolutionCache
from oscal_mcp.oscal.store import DocumentNotFoundError, DocumentStore


def store_control_ids(store: DocumentStore, resolutions: ResolutionCache) -> ControlIdSource:
    """A source that also looks `href` up in `store`: a catalog, or a profile it resolves."""

    def ids(href: str) -> frozenset[str] | None:
        bundled = bundled_control_ids(href)
        if bundled is not None:
            return bundled
        try:
            document = store.find(href_stem(href))
        except DocumentNotFoundError:
            return None
        if document.model == "catalog":
            return frozenset(found.ref for found in controls(document.body))
        if document.model == "profile":
            try:
                return frozenset(control.id for control in resolutions.get(store, document).controls)
            except ProfileResolutionError:
                return None
        return None

    return ids
