"""The parsed Metaschema: definitions (assembly, field, flag), their instances and constraints.

Plain frozen data read from NIST's modules by `parsing.py`; nothing here knows about documents.
Names follow the Metaschema specification (pages.nist.gov/metaschema/specification/): a
*definition* is declared once (``define-assembly``, ``define-field``, ``define-flag``), an
*instance* is its use in a model (``assembly ref=``, an inline definition) with a use name,
cardinality and a ``group-as`` name, which is also its JSON property name when it repeats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DefinitionKind = Literal["assembly", "field", "flag"]
ConstraintKind = Literal[
    "allowed-values", "matches", "is-unique", "index", "index-has-key", "has-cardinality", "expect"
]
CONSTRAINT_KINDS: tuple[ConstraintKind, ...] = (
    "allowed-values",
    "matches",
    "is-unique",
    "index",
    "index-has-key",
    "has-cardinality",
    "expect",
)
UNBOUNDED = -1
MARKUP_TYPES = ("markup-line", "markup-multiline")


@dataclass(frozen=True)
class AllowedValue:
    value: str
    description: str
    deprecated: str | None = None


@dataclass(frozen=True)
class KeyField:
    """One part of a key: a Metapath `target` relative to the keyed node, and an optional regex
    whose first group is the key (``#(.*)`` takes the fragment of an ``href``)."""

    target: str
    pattern: str | None = None


@dataclass(frozen=True)
class Constraint:
    """One constraint as a module states it, on the definition `owner` (its key)."""

    kind: ConstraintKind
    id: str | None
    level: str
    target: str
    owner: str
    module: str
    message: str | None = None
    # allowed-values
    values: tuple[AllowedValue, ...] = ()
    allow_other: bool = False
    extensible: str = "model"
    # matches
    regex: str | None = None
    datatype: str | None = None
    # index, index-has-key, is-unique
    name: str | None = None
    key_fields: tuple[KeyField, ...] = ()
    # has-cardinality
    min_occurs: int | None = None
    max_occurs: int | None = None
    # expect
    test: str | None = None

    @property
    def label(self) -> str:
        """The id NIST gave the constraint, or a stable description when it has none."""
        return self.id or f"{self.kind} on {self.owner} at {self.target}"


@dataclass(frozen=True)
class Flag:
    name: str
    definition: str
    required: bool
    renamed: bool = False  # the instance gave its own use name


@dataclass(frozen=True)
class Child:
    """An assembly or field instance in a model: its XML name, JSON name and cardinality."""

    kind: Literal["assembly", "field"]
    definition: str
    xml_name: str
    json_name: str
    min_occurs: int
    max_occurs: int
    in_json: str = "SINGLETON_OR_ARRAY"
    unwrapped: bool = False
    use_name: str | None = None  # as the instance states it; xml_name is final once resolved
    group_name: str | None = None

    @property
    def repeats(self) -> bool:
        return self.max_occurs == UNBOUNDED or self.max_occurs > 1


@dataclass(frozen=True)
class Definition:
    """A definition; `key` is its name for a global one, ``<parent key>/<name>`` for a local one."""

    key: str
    kind: DefinitionKind
    name: str
    module: str
    formal_name: str
    description: str
    as_type: str | None = None
    use_name: str | None = None
    root_name: str | None = None
    flags: tuple[Flag, ...] = ()
    children: tuple[Child, ...] = ()
    json_key: str | None = None
    json_value_key: str | None = None
    constraints: tuple[Constraint, ...] = field(default=())

    @property
    def value_key(self) -> str:
        """The JSON property holding a field's value when the field is an object (it has flags)."""
        if self.json_value_key:
            return self.json_value_key
        return "RICHTEXT" if self.as_type in MARKUP_TYPES else "STRVALUE"

    @property
    def is_global(self) -> bool:
        return "/" not in self.key
