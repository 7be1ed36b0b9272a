"""What the document-store tools share: the lazily built store, parameters, pages and bounded objects.

The store is built once, at the first call of any store or component tool, in a worker thread
(never on the start-up path); concurrent first calls wait for the same build. Tools get a
`StoreAccess`, which carries only the store, never the server or auth settings.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, TypeVar, cast

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from oscal_mcp.oscal.clipping import Limits, bound, bound_to_budget
from oscal_mcp.oscal.lazy import Once
from oscal_mcp.oscal.models import MODEL_NAMES
from oscal_mcp.oscal.objects import without
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import ENVELOPE_BYTES, PAGE_BYTES, Detail, cut_note
from oscal_mcp.tools.compact import compact_result
from oscal_mcp.tools.params import enum_extra, requested_model
from oscal_mcp.tools.results import budget_page, check_offset

DEFAULT_LIMIT = 20
MAX_CACHED_ANSWERS = 512
MAX_LIMIT = 100
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

if TYPE_CHECKING:  # the store and profile resolution are imported at their first use
    from oscal_mcp.oscal.profiles import ResolutionCache
    from oscal_mcp.oscal.queries import Found
    from oscal_mcp.oscal.store import DocumentStore, StoredDocument


class StoreAccess:
    """The store, built on first use (shared with the component index, see `ToolContext.store`); and
    the profile resolutions cache that goes with it (`ToolContext.resolutions`)."""

    def __init__(self, store: Once[DocumentStore], resolutions: Once[ResolutionCache]) -> None:
        self._store = store
        self._resolutions = resolutions
        self.answers = AnswerCache()

    async def get(self) -> DocumentStore:
        return await self._store.aget()

    @property
    def resolutions(self) -> ResolutionCache:
        return self._resolutions.get()


class AnswerCache:
    """Answers that depend only on the (immutable) store and their arguments - one object by id, one
    control - kept once built; bounded, the oldest dropped first. Concurrent first calls may both
    build an answer, harmlessly."""

    def __init__(self, size: int = MAX_CACHED_ANSWERS) -> None:
        self._size = size
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], M]) -> M:
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
            return cast("M", kept)
        answer = build()
        self._kept[key] = answer
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return answer


def model_name(raw: str | None) -> str | None:
    """The name of the model `raw` names (`params.requested_model`), None for None/empty."""
    model = requested_model(raw)
    return None if model is None else model.name


def find_document(store: DocumentStore, raw: str, model: str | None = None) -> StoredDocument:
    """The document of `model` (any when None) that `raw` names; a ToolError saying how to list them."""
    from oscal_mcp.oscal.store import DocumentNotFoundError

    try:
        return store.find(raw, model)
    except DocumentNotFoundError as exc:
        listing = f"list_oscal_documents with model={model!r}" if model else "list_oscal_documents"
        raise ToolError(f"{exc}; call {listing} to see them") from None


def scope(store: DocumentStore, raw: str | None, model: str) -> list[StoredDocument]:
    """One named document of `model`, or all of them when `raw` is omitted (a ToolError when there
    are none: an empty list would not say why)."""
    if raw:
        return [find_document(store, raw, model)]
    documents = store.of_model(model)
    if not documents:
        raise ToolError(
            f"no {model} document is loaded; add one to OSCAL_DOCUMENTS_DIR (list_oscal_documents shows what is)"
        )
    return documents


class DocumentRef(BaseModel):
    source: str = Field(
        description="'bundled:<path>' for bundled content, else the path inside OSCAL_DOCUMENTS_DIR or "
        "OSCAL_COMPONENT_DEFINITIONS_DIR ('<archive>.zip!<member>' for an archive member)."
    )
    model: str
    uuid: str
    title: str


class DocumentSummary(DocumentRef):
    version: str
    oscal_version: str
    last_modified: str
    origin: str = Field(description="bundled or directory")
    object_count: int = Field(description="How many queryable objects (controls, components, findings...) it holds.")


class OscalObject(BaseModel):
    id: str = Field(description="Its id across the store: get_oscal_object or fetch take it back.")
    document: DocumentRef
    kind: str = Field(description="control, group, component, implemented-requirement, task, finding, map...")
    ref: str = Field(description="The object's id, control-id or uuid.")
    context: dict[str, str] = Field(description="Where it sits, e.g. its group, parent control or result.")
    object: dict[str, Any] = Field(description="The OSCAL object as in the document (hyphenated keys), bounded.")
    clipped: list[str] = Field(description="JSON paths (from $ = object) of strings or lists that were cut.")


class Page(BaseModel):
    total: int
    offset: int
    next_offset: int | None = Field(description="Pass as offset to get the next page; null on the last page.")
    cut: str | None = Field(
        default=None, description="When the page stopped at its size budget: where, and how to get the rest."
    )


class ListedObject(BaseModel):
    id: str = Field(description="Its id across the store: get_oscal_object or fetch return it whole.")
    kind: str
    title: str
    document: str = Field(description="The source of the document it lives in (see list_oscal_documents).")
    context: dict[str, str] = Field(description="Where it sits, e.g. its group, parent control or result.")
    description: str = Field(description="The start of its description, statement or remarks.")
    object: dict[str, Any] | None = Field(default=None, description="With detail=full: the OSCAL object, bounded.")
    clipped: list[str] | None = Field(default=None, description="With detail=full: JSON paths of what was cut.")


class ObjectPage(Page):
    objects: list[ListedObject] = Field(description="From offset on: at most limit, fewer at the page's max_bytes.")


def document_ref(d: StoredDocument) -> DocumentRef:
    return DocumentRef(source=clip(d.source, 300), model=d.model, uuid=clip(d.uuid, 100), title=clip(d.title, 300))


def object_id(store: DocumentStore, d: StoredDocument, found: Found) -> str:
    """The canonical id of a found object (see `oscal_mcp.oscal.identifiers`)."""
    located = store.ids.of_object(d.uuid, found.obj, f"{found.kind}/{found.ref}")
    return store.ids.canonical(located) if located is not None else f"{d.uuid}/{found.kind}/{found.ref}"


def listed_object(
    store: DocumentStore, d: StoredDocument, found: Found, detail: Detail, max_bytes: int = PAGE_BYTES
) -> ListedObject:
    from oscal_mcp.oscal.readable import short_description

    listed = ListedObject(
        id=clip(object_id(store, d, found), 300),
        kind=found.kind,
        title=clip(found.title, 200),
        document=clip(d.source, 200),
        context={k: clip(v, 200) for k, v in found.context.items()},
        description=short_description(found.obj),
    )
    if detail == "full":
        listed.object, listed.clipped = page_object(found.obj, found.nested, max_bytes)
    return listed


def page_object(obj: dict[str, Any], nested: frozenset[str], max_bytes: int) -> tuple[dict[str, Any], list[str]]:
    """An object for a page (detail=full): its nested objects of their own (a group's controls, a
    control's enhancements) left out, bounded to fit the page alone."""
    bounded = bound_to_budget(without(obj, nested), max(max_bytes - ENVELOPE_BYTES, 0), Limits())
    return bounded.value, bounded.all_notes()


def oscal_object(store: DocumentStore, d: StoredDocument, found: Found) -> OscalObject:
    bounded = bound(found.obj)
    return OscalObject(
        id=clip(object_id(store, d, found), 300),
        document=document_ref(d),
        kind=found.kind,
        ref=clip(found.ref, 200),
        context={k: clip(v, 200) for k, v in found.context.items()},
        object=bounded.value,
        clipped=bounded.all_notes(),
    )


def object_page(
    store: DocumentStore,
    found: Sequence[tuple[StoredDocument, Found]],
    offset: int,
    limit: int,
    detail: Detail = "summary",
    max_bytes: int = PAGE_BYTES,
) -> ObjectPage:
    objects, info = fitted_page(
        found, offset, limit, lambda pair: listed_object(store, *pair, detail, max_bytes), max_bytes
    )
    return ObjectPage(**info.model_dump(), objects=objects)


def fitted_page(
    items: Sequence[T], offset: int, limit: int, build: Callable[[T], M], max_bytes: int
) -> tuple[list[M], Page]:
    """`results.budget_page` as a `Page` (no limit field): the items built as far as `max_bytes` goes."""
    shown, info = budget_page(items, offset, limit, build, max_bytes)
    return shown, Page(**info.model_dump(exclude={"limit"}))


def page_info(total: int, offset: int, shown: int, *, asked: int = 0, max_bytes: int = PAGE_BYTES) -> Page:
    """A page's totals and next offset; `asked` (how many items the caller's limit allowed) says
    whether the budget cut the page."""
    check_offset(offset, total)
    after = offset + shown
    next_offset = after if after < total else None
    return Page(total=total, offset=offset, next_offset=next_offset, cut=cut_note(shown, asked, next_offset, max_bytes))


LimitParam = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")]
ModelParam = Annotated[
    str | None,
    Field(
        description="Only this OSCAL model (e.g. catalog, profile, system-security-plan); omit for all.",
        json_schema_extra=enum_extra(MODEL_NAMES, optional=True),
    ),
]


def _names_one(model: str, default: str = "omit for all of them") -> Any:
    return Field(description=f"One {model}: its uuid, title or file name (see list_oscal_documents); {default}.")


CatalogParam = Annotated[str | None, _names_one("catalog", "omit to search every catalog, bundled SP 800-53 first")]
SspParam = Annotated[str | None, _names_one("system security plan")]
AssessmentPlanParam = Annotated[str | None, _names_one("assessment plan")]
AssessmentResultsParam = Annotated[str | None, _names_one("assessment results document")]
PoamParam = Annotated[str | None, _names_one("POA&M")]
MappingParam = Annotated[str | None, _names_one("mapping collection")]


def collect(
    documents: Iterable[StoredDocument], kind: str, keep: Callable[[Found], bool] | None = None
) -> list[tuple[StoredDocument, Found]]:
    """The objects of `kind` in `documents`, in order, those `keep` accepts (all when None)."""
    return [(d, f) for d in documents for f in d.objects(kind) if keep is None or keep(f)]


class PageRequest(NamedTuple):
    """The page arguments every listing tool takes."""

    offset: int
    limit: int
    detail: Detail
    max_bytes: int


async def listed_objects(
    access: StoreAccess,
    model: str,
    document: str | None,
    kind: str,
    page: PageRequest,
    keep: Callable[[Found], bool] | None = None,
    filters: tuple[Hashable, ...] = (),
) -> CallToolResult:
    """A listing tool's answer: one page of the objects of `kind` in the document of `model` named
    `document` (all of them when omitted) that `keep` accepts, kept in the answer cache; `filters`
    are the tool arguments `keep` was built from (with the rest, they make the cache key)."""
    store = await access.get()

    def answer() -> CallToolResult:
        found = collect(scope(store, document, model), kind, keep)
        return compact_result(object_page(store, found, page.offset, page.limit, page.detail, page.max_bytes))

    return access.answers.get(("listed_objects", model, kind, document, filters, page), answer)
