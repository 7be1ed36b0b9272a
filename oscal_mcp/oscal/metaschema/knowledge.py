"""The Metaschema as knowledge: answers an assistant can ask before it writes a document.

From the same parsed modules the constraint level uses (`registry.load_metaschema`):

- `allowed_values`: the values allowed at a place such as ``control/prop/@name`` or
  ``component/@type``, from every ``allowed-values`` constraint that reaches it (the definition's
  own, those of the definitions the place goes through, and the flag's), with whether other
  values are allowed;
- `constraints_of`: the constraints a definition carries;
- `references_to`: what refers to an assembly by key (an ``index`` over it, and the
  ``index-has-key`` constraints naming that index), plus this server's own beyond-NIST checks;
- `definitions_named`: a definition with its flags and children and their cardinality.

A place is written with OSCAL's XML names, ``/`` between steps, ``@`` before a flag; its first
step names a definition (``control``) or the XML name of one (``component``).
"""

from __future__ import annotations

from dataclasses import dataclass

from oscal_mcp.oscal.metaschema import metapath_syntax as syntax
from oscal_mcp.oscal.metaschema.beyond import COMPONENT_RULE, CONTROL_RULE
from oscal_mcp.oscal.metaschema.model import UNBOUNDED, Constraint, Definition
from oscal_mcp.oscal.metaschema.registry import Metaschema


class UnknownPlaceError(LookupError):
    """A place or definition name matches nothing; the message says what would."""


@dataclass(frozen=True)
class Reach:
    """An allowed-values constraint reaching a place, from the definition `via` (its key)."""

    constraint: Constraint
    via: str


def target_paths(expression: str) -> set[str]:
    """The plain paths a Metapath target can select, predicates dropped: ``(.|statement)/prop/@name``
    -> {``prop/@name``, ``statement/prop/@name``}; ``//`` counts as ``/``."""
    try:
        return {_tidy(path) for path in _paths(syntax.parse(expression))}
    except syntax.MetapathUnsupported:
        return set()


def _paths(expr: syntax.Expr) -> set[str]:
    if isinstance(expr, syntax.ChildStep):
        return {expr.name}
    if isinstance(expr, syntax.FlagStep):
        return {f"@{expr.name}"}
    if isinstance(expr, (syntax.ContextItem, syntax.DescendantOrSelf, syntax.RootNode)):
        return {""}
    if isinstance(expr, syntax.Filter):
        return _paths(expr.base)
    if isinstance(expr, syntax.Union):
        return set().union(*(_paths(part) for part in expr.items))
    if isinstance(expr, syntax.PathExpr):
        return {f"{left}/{right}" for left in _paths(expr.left) for right in _paths(expr.right)}
    return set()


def _tidy(path: str) -> str:
    return "/".join(step for step in path.split("/") if step)


def _xml_names(metaschema: Metaschema) -> dict[str, set[str]]:
    """Definition keys by every XML name they are used under (``component`` -> system-component...)."""
    names: dict[str, set[str]] = {}
    for definition in metaschema.definitions.values():
        if definition.kind != "flag":
            names.setdefault(definition.name, set()).add(definition.key)
        for child in definition.children:
            names.setdefault(child.xml_name, set()).add(child.definition)
    return names


def definitions_for(metaschema: Metaschema, name: str) -> list[Definition]:
    """The assembly and field definitions `name` names, by definition name or XML name."""
    keys = _xml_names(metaschema).get(name.strip(), set())
    found = [metaschema.definitions[key] for key in keys if key in metaschema.definitions]
    if not found:
        raise UnknownPlaceError(
            f"no OSCAL {metaschema.version} definition or element is called {name!r}; try a name such as "
            "'control', 'component', 'party', 'responsible-party' or 'prop'"
        )
    return sorted(found, key=lambda d: (not d.is_global, d.key))


def allowed_values(metaschema: Metaschema, place: str) -> list[Reach]:
    """Every allowed-values constraint reaching `place` (``control/prop/@name``)."""
    steps = [step for step in place.strip().split("/") if step]
    if not steps:
        raise UnknownPlaceError("give a place such as 'control/prop/@name' or 'component/@type'")
    found: list[Reach] = []
    frontier = definitions_for(metaschema, steps[0])
    for depth in range(len(steps)):
        rest = "/".join(steps[depth + 1 :])
        found += [Reach(c, d.key) for d in frontier for c in d.constraints if _reaches(c, rest)]
        if depth + 1 < len(steps):
            frontier = _step(metaschema, frontier, steps[depth + 1])
    return _unique(found)


def _reaches(constraint: Constraint, rest: str) -> bool:
    return constraint.kind == "allowed-values" and rest in target_paths(constraint.target)


def _step(metaschema: Metaschema, frontier: list[Definition], step: str) -> list[Definition]:
    if step.startswith("@"):
        name = step[1:]
        keys = [flag.definition for d in frontier for flag in d.flags if flag.name == name]
    else:
        keys = [child.definition for d in frontier for child in d.children if child.xml_name == step]
    return [metaschema.definitions[key] for key in dict.fromkeys(keys) if key in metaschema.definitions]


def _unique(found: list[Reach]) -> list[Reach]:
    seen: set[int] = set()
    kept = []
    for reach in found:
        if id(reach.constraint) not in seen:
            seen.add(id(reach.constraint))
            kept.append(reach)
    return kept


def constraints_of(metaschema: Metaschema, name: str, kind: str | None = None) -> list[Constraint]:
    """The constraints carried by the definitions `name` names, and by their flags."""
    found: list[Constraint] = []
    for definition in definitions_for(metaschema, name):
        found += definition.constraints
        for flag in definition.flags:
            flag_definition = metaschema.definitions.get(flag.definition)
            if flag_definition is not None:
                found += flag_definition.constraints
    unique = list({id(c): c for c in found}.values())
    return [c for c in unique if kind is None or c.kind == kind]


@dataclass(frozen=True)
class Reference:
    """One way a document points at an assembly: `constraint` is the ``index-has-key`` (or this
    server's own rule, `beyond_nist`), the index it names is built over the assembly."""

    index: Constraint
    constraint: Constraint | None
    beyond_nist: str | None = None


_BEYOND: dict[str, tuple[tuple[str, str], ...]] = {
    "component": ((COMPONENT_RULE, "by-component/@component-uuid must name a component of the SSP"),),
    "control": ((CONTROL_RULE, "implemented-requirement/@control-id must name a control of the imported profile"),),
}


def references_to(metaschema: Metaschema, name: str) -> tuple[list[Reference], list[tuple[str, str]]]:
    """What refers to the assembly `name` by key, and this server's own rules about it."""
    wanted = name.strip()
    definitions_for(metaschema, wanted)  # raises for an unknown name
    constraints = metaschema.constraints()
    indexes = [c for c in constraints if c.kind == "index" and _last_steps(c.target) & {wanted}]
    found: list[Reference] = []
    for index in indexes:
        users = [c for c in constraints if c.kind == "index-has-key" and c.name == index.name]
        found += [Reference(index, user) for user in users] or [Reference(index, None)]
    return found, list(_BEYOND.get(wanted, ()))


def _last_steps(target: str) -> set[str]:
    return {path.rsplit("/", 1)[-1] for path in target_paths(target) if path}


def cardinality(min_occurs: int, max_occurs: int) -> str:
    return f"{min_occurs}..{'*' if max_occurs == UNBOUNDED else max_occurs}"


def definitions_named(metaschema: Metaschema, name: str) -> list[Definition]:
    """The definitions called `name` (any kind), else those used under that XML name."""
    named = metaschema.named(name.strip())
    return named or definitions_for(metaschema, name)
