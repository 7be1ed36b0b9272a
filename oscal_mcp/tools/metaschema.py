"""The Metaschema knowledge tools: NIST's rules, asked before a document is written.

Thin adapters over `oscal_mcp.oscal.metaschema.knowledge`; the modules are the ones the
constraints-valid level of validation checks with. Every answer is paginated and small (the
default page stays within about 8 KB of JSON).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from anyio import to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.oscal.metaschema.model import CONSTRAINT_KINDS, Constraint, Definition
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.budget import PAGE_BYTES
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import OffsetParam, enum_extra
from oscal_mcp.tools.results import Page, budget_page

# The modules' reader and the knowledge over them (with the Metapath parser) load at the first
# call of these tools or in the warm-up, not at start-up (bench/README.md, cold paths).
if TYPE_CHECKING:
    from oscal_mcp.oscal.metaschema import knowledge
    from oscal_mcp.oscal.metaschema.registry import Metaschema

DESCRIPTION_CHARS = 160
TEXT_CHARS = 300

VersionParam = Annotated[
    str | None,
    Field(
        description="The OSCAL release whose Metaschema modules to read; omit for the newest bundled one.",
        json_schema_extra=enum_extra(("1.2.1", "1.2.3"), optional=True),
    ),
]


class AllowedValue(BaseModel):
    value: str
    description: str
    deprecated_since: str | None = None
    constraint_id: str


class AllowedValuesRule(BaseModel):
    constraint_id: str
    level: str
    defined_on: str = Field(description="The definition carrying the constraint (its key).")
    target: str = Field(description="The constraint's Metapath target as NIST wrote it, conditions included.")
    allow_other: bool
    value_count: int


class AllowedValuesResult(Page):
    place: str
    oscal_version: str
    others_allowed: bool = Field(description="True when any rule here allows values beyond its list.")
    rules: list[AllowedValuesRule]
    values: list[AllowedValue]
    note: str | None = Field(default=None, description="Why the list is empty, when it is.")


class ConstraintInfo(BaseModel):
    constraint_id: str
    kind: str
    level: str
    defined_on: str
    target: str
    detail: str | None = Field(description="The test, pattern, datatype, index name or cardinality.")
    message: str | None


class ConstraintList(Page):
    definition: str
    oscal_version: str
    constraints: list[ConstraintInfo]


class ReferenceInfo(BaseModel):
    index_id: str
    index_name: str | None
    indexed: str = Field(description="What the index holds: its definition and target, and the key.")
    referrer_id: str | None
    referrer_level: str | None
    referrer: str | None = Field(description="What points at it: the definition, its target and the key used.")


class ReferenceList(Page):
    definition: str
    oscal_version: str
    references: list[ReferenceInfo]
    beyond_nist: list[str] = Field(description="This server's own reference checks (warnings), beyond NIST's rules.")


class FlagInfo(BaseModel):
    name: str
    required: bool
    type: str | None
    description: str


class ChildInfo(BaseModel):
    name: str = Field(description="The XML name (as in Metapath targets).")
    json_name: str = Field(description="The JSON property (a group-as name when it repeats).")
    kind: str
    definition: str
    cardinality: str = Field(description="min..max, '*' for unbounded.")


class DefinitionInfo(BaseModel):
    key: str
    kind: str
    name: str
    module: str
    formal_name: str
    description: str
    value_type: str | None
    json_key: str | None
    json_value_key: str | None
    flags: list[FlagInfo]
    children: list[ChildInfo]
    constraint_count: int


class DefinitionList(Page):
    name: str
    oscal_version: str
    definitions: list[DefinitionInfo]


def metaschema_of(version: str | None) -> Metaschema:
    from oscal_mcp.oscal.metaschema.registry import load_metaschema, metaschema_versions

    versions = metaschema_versions()
    chosen = version.strip() if version else versions[-1]
    if chosen not in versions:
        raise ToolError(f"no Metaschema modules for OSCAL {clip(chosen, 20)!r}; bundled: {', '.join(versions)}")
    return load_metaschema(chosen)


def _known(call: Any, *args: Any) -> Any:
    from oscal_mcp.oscal.metaschema import knowledge

    try:
        return call(*args)
    except knowledge.UnknownPlaceError as exc:
        raise ToolError(str(exc)) from None


def allowed_values_page(place: str, version: str | None, limit: int, offset: int) -> AllowedValuesResult:
    from oscal_mcp.oscal.metaschema import knowledge

    metaschema = metaschema_of(version)
    reaches: list[knowledge.Reach] = _known(knowledge.allowed_values, metaschema, place)
    values = [
        AllowedValue(
            value=clip(v.value, 100),
            description=clip(v.description, DESCRIPTION_CHARS),
            deprecated_since=v.deprecated,
            constraint_id=r.constraint.label,
        )
        for r in reaches
        for v in r.constraint.values
    ]
    shown, info = budget_page(values, offset, limit, lambda value: value, PAGE_BYTES)
    rules = [
        AllowedValuesRule(
            constraint_id=r.constraint.label,
            level=r.constraint.level,
            defined_on=r.via,
            target=clip(r.constraint.target, TEXT_CHARS),
            allow_other=r.constraint.allow_other,
            value_count=len(r.constraint.values),
        )
        for r in reaches
    ]
    return AllowedValuesResult(
        **info.model_dump(),
        place=clip(place, 100),
        oscal_version=metaschema.version,
        others_allowed=any(r.constraint.allow_other for r in reaches) or not reaches,
        rules=rules,
        values=shown,
        note=None
        if reaches
        else "No allowed-values constraint of NIST's Metaschema reaches this place: any value the schema "
        "accepts is allowed (check the place's spelling with get_oscal_definition).",
    )


def _detail(c: Constraint) -> str | None:
    if c.kind == "expect":
        return f"test: {c.test}"
    if c.kind == "matches":
        return f"datatype: {c.datatype}" if c.datatype else f"pattern: {c.regex}"
    if c.kind in ("index", "index-has-key", "is-unique"):
        keys = ", ".join(k.target + (f" (pattern {k.pattern})" if k.pattern else "") for k in c.key_fields)
        return f"index {c.name}, key {keys}" if c.name else f"key {keys}"
    if c.kind == "has-cardinality":
        return f"occurs {c.min_occurs or 0}..{'*' if c.max_occurs is None else c.max_occurs}"
    values = ", ".join(v.value for v in c.values[:10])
    return f"values: {values}{' ...' if len(c.values) > 10 else ''}{' (others allowed)' if c.allow_other else ''}"


def constraint_info(c: Constraint) -> ConstraintInfo:
    return ConstraintInfo(
        constraint_id=c.label,
        kind=c.kind,
        level=c.level,
        defined_on=c.owner,
        target=clip(c.target, TEXT_CHARS),
        detail=clip(d, TEXT_CHARS) if (d := _detail(c)) else None,
        message=clip(c.message, TEXT_CHARS) if c.message else None,
    )


def constraints_page(name: str, kind: str | None, version: str | None, limit: int, offset: int) -> ConstraintList:
    from oscal_mcp.oscal.metaschema import knowledge

    metaschema = metaschema_of(version)
    if kind is not None and kind not in CONSTRAINT_KINDS:
        raise ToolError(f"kind {clip(kind, 30)!r} is not a constraint kind; use one of: {', '.join(CONSTRAINT_KINDS)}")
    found: list[Constraint] = _known(knowledge.constraints_of, metaschema, name, kind)
    shown, info = budget_page(found, offset, limit, constraint_info, PAGE_BYTES)
    return ConstraintList(
        **info.model_dump(),
        definition=clip(name, 100),
        oscal_version=metaschema.version,
        constraints=shown,
    )


def _keys(c: Constraint) -> str:
    return ", ".join(k.target + (f" (pattern {k.pattern})" if k.pattern else "") for k in c.key_fields)


def reference_info(r: knowledge.Reference) -> ReferenceInfo:
    return ReferenceInfo(
        index_id=r.index.label,
        index_name=r.index.name,
        indexed=clip(f"{r.index.owner}: {r.index.target} by {_keys(r.index)}", TEXT_CHARS),
        referrer_id=r.constraint.label if r.constraint else None,
        referrer_level=r.constraint.level if r.constraint else None,
        referrer=clip(f"{r.constraint.owner}: {r.constraint.target} by {_keys(r.constraint)}", TEXT_CHARS)
        if r.constraint
        else None,
    )


def references_page(name: str, version: str | None, limit: int, offset: int) -> ReferenceList:
    from oscal_mcp.oscal.metaschema import knowledge

    metaschema = metaschema_of(version)
    found, beyond = _known(knowledge.references_to, metaschema, name)
    shown, info = budget_page(found, offset, limit, reference_info, PAGE_BYTES)
    return ReferenceList(
        **info.model_dump(),
        definition=clip(name, 100),
        oscal_version=metaschema.version,
        references=shown,
        beyond_nist=[f"{rule}: {text}" for rule, text in beyond],
    )


def definition_info(metaschema: Metaschema, d: Definition) -> DefinitionInfo:
    from oscal_mcp.oscal.metaschema import knowledge

    def flag_info(flag: Any) -> FlagInfo:
        defined = metaschema.definitions.get(flag.definition)
        return FlagInfo(
            name=flag.name,
            required=flag.required,
            type=defined.as_type if defined else None,
            description=clip(defined.description, DESCRIPTION_CHARS) if defined else "",
        )

    return DefinitionInfo(
        key=d.key,
        kind=d.kind,
        name=d.name,
        module=d.module,
        formal_name=d.formal_name,
        description=clip(d.description, 600),
        value_type=d.as_type,
        json_key=d.json_key,
        json_value_key=d.json_value_key if d.kind == "field" else None,
        flags=[flag_info(f) for f in d.flags],
        children=[
            ChildInfo(
                name=c.xml_name,
                json_name=c.json_name,
                kind=c.kind,
                definition=c.definition,
                cardinality=knowledge.cardinality(c.min_occurs, c.max_occurs),
            )
            for c in d.children
        ],
        constraint_count=len(d.constraints),
    )


def definitions_page(name: str, version: str | None, limit: int, offset: int) -> DefinitionList:
    from oscal_mcp.oscal.metaschema import knowledge

    metaschema = metaschema_of(version)
    found: list[Definition] = _known(knowledge.definitions_named, metaschema, name)
    shown, info = budget_page(found, offset, limit, lambda d: definition_info(metaschema, d), PAGE_BYTES)
    return DefinitionList(
        **info.model_dump(),
        name=clip(name, 100),
        oscal_version=metaschema.version,
        definitions=shown,
    )


NameParam = Annotated[str, Field(description="A definition name or XML element name, e.g. 'component', 'party'.")]


def register(server: MCPServer[Any], context: ToolContext) -> None:
    async def get_oscal_allowed_values(
        place: Annotated[
            str,
            Field(
                description="Where the value goes, with OSCAL's XML names: e.g. 'control/prop/@name', "
                "'component/@type', 'system-characteristics/prop/@value', 'link/@rel'."
            ),
        ],
        oscal_version: VersionParam = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Values per page (1-100).")] = 20,
        offset: OffsetParam = 0,
    ) -> AllowedValuesResult:
        """The values NIST's Metaschema allows at a place in an OSCAL document (allowed-values
        constraints), with each value's description, the rules they come from (their conditions,
        such as a prop in NIST's namespace, are in each rule's target) and whether other values are
        allowed. Ask before writing a prop name, a component type or a link rel. Paginated."""
        return await to_thread.run_sync(allowed_values_page, place, oscal_version, limit, offset)

    async def list_oscal_constraints(
        definition: NameParam,
        kind: Annotated[
            str | None,
            Field(
                description="Only this kind of constraint.",
                json_schema_extra=enum_extra(CONSTRAINT_KINDS, optional=True),
            ),
        ] = None,
        oscal_version: VersionParam = None,
        limit: Annotated[int, Field(ge=1, le=50, description="Constraints per page (1-50).")] = 15,
        offset: OffsetParam = 0,
    ) -> ConstraintList:
        """The constraints NIST's Metaschema attaches to a definition (and its flags): id, kind
        (allowed-values, matches, is-unique, index, index-has-key, has-cardinality, expect), level
        (ERROR makes a document invalid; WARNING does not), target, the test or pattern, and the
        message. The constraints-valid level of validation reports violations by these ids."""
        return await to_thread.run_sync(constraints_page, definition, kind, oscal_version, limit, offset)

    async def find_oscal_references(
        definition: NameParam,
        oscal_version: VersionParam = None,
        limit: Annotated[int, Field(ge=1, le=50, description="References per page (1-50).")] = 15,
        offset: OffsetParam = 0,
    ) -> ReferenceList:
        """What refers to an OSCAL assembly by key, per NIST's Metaschema: the index built over it
        (e.g. components by uuid, parties by uuid, roles by id) and every index-has-key constraint
        that must find its key there (a depends-on link, a responsible party's party-uuid...), plus
        the reference checks this server adds beyond NIST's rules."""
        return await to_thread.run_sync(references_page, definition, oscal_version, limit, offset)

    async def get_oscal_definition(
        name: NameParam,
        oscal_version: VersionParam = None,
        limit: Annotated[int, Field(ge=1, le=10, description="Definitions per page (1-10).")] = 3,
        offset: OffsetParam = 0,
    ) -> DefinitionList:
        """An OSCAL definition from NIST's Metaschema: formal name, description, its flags (JSON
        properties with types and whether required) and children with cardinality and JSON names.
        A name may match several definitions (e.g. a local one); global ones come first."""
        return await to_thread.run_sync(definitions_page, name, oscal_version, limit, offset)

    for tool, title in (
        (get_oscal_allowed_values, "Allowed values at an OSCAL place"),
        (list_oscal_constraints, "NIST's constraints on an OSCAL definition"),
        (find_oscal_references, "What refers to an OSCAL assembly"),
        (get_oscal_definition, "An OSCAL Metaschema definition"),
    ):
        server.add_tool(tool, name=tool.__name__, title=title, annotations=read_only())
