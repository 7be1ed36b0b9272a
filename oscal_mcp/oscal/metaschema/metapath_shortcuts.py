"""Shortcuts the constraint level takes around full Metapath evaluation, each giving the same
answer as the evaluation it replaces (the oracle test checks the guards against elementpath):
`target_guard`, a cheap test that a context cannot have targets, and `value_getter`, a key field's
value read directly when it is a flag or the context itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from oscal_mcp.oscal.metaschema import metapath_syntax as syntax
from oscal_mcp.oscal.metaschema.metapath_eval import Environment, compile_expr
from oscal_mcp.oscal.metaschema.nodes import Item, Node, atom
from oscal_mcp.oscal.metaschema.registry import Metaschema, load_metaschema

Guard = Callable[[Node], bool]


@cache
def target_guard(expression: str) -> Guard | None:
    """A cheap test that is false only where `expression` selects nothing from a node: the child or
    flag its first step needs (``prop[...]/@name`` needs a ``prop``). None when there is no such
    test. It lets the constraint level skip most context nodes without evaluating anything."""
    return _guard(syntax.parse(expression))


def _guard(expr: syntax.Expr) -> Guard | None:
    if isinstance(expr, syntax.ChildStep) and expr.name != "*":
        name = expr.name
        return lambda node: name in node.by_name
    if isinstance(expr, syntax.FlagStep) and expr.name != "*":
        flag = expr.name
        return lambda node: flag in node.flags
    if isinstance(expr, syntax.PathExpr):
        return _guard(expr.left)
    if isinstance(expr, syntax.Filter):
        if isinstance(expr.base, syntax.ContextItem):
            return _guard(expr.predicate)
        if isinstance(expr.base, syntax.ChildStep) and expr.base.name != "*":
            # ``prop[@name='x']``: some ``prop`` child must pass the predicate's own guard
            inner = _guard(expr.predicate)
            if inner is not None:
                return _some_child(expr.base.name, inner)
        return _guard(expr.base)
    if isinstance(expr, syntax.Logical) and expr.operator == "and":
        parts = [guard for part in expr.items if (guard := _guard(part)) is not None]
        return (lambda node: all(part(node) for part in parts)) if parts else None
    if isinstance(expr, syntax.Comparison) and expr.operator == "=":
        return _flag_equals(expr) or _guard(expr.left)
    if isinstance(expr, syntax.Union):
        found = [_guard(part) for part in expr.items]
        known = [part for part in found if part is not None]
        if len(known) < len(found):
            return None
        return lambda node: any(part(node) for part in known)
    return None


def _some_child(name: str, inner: Guard) -> Guard:
    return lambda node: any(inner(child) for child in node.by_name.get(name, ()))


def _flag_equals(expr: syntax.Comparison) -> Guard | None:
    """``@flag = 'a'`` (or ``= ('a', 'b')``) can hold only where the flag is one of the strings; a
    number-valued flag compares as a number (``5 = '5.0'``), so it is never skipped."""
    if not isinstance(expr.left, syntax.FlagStep) or expr.left.name == "*":
        return None
    right = expr.right
    items = right.items if isinstance(right, syntax.Sequence) else (right,)
    if not all(isinstance(item, syntax.Literal) and isinstance(item.value, str) for item in items):
        return None
    values = frozenset(str(item.value) for item in items)  # type: ignore[union-attr]
    flag = expr.left.name

    def equals(node: Node) -> bool:
        value = node.flags.get(flag)
        return value is not None and (type(value) is not str or value in values)

    return equals


Value = Callable[[Item, Environment], str | None]


@cache
def value_getter(expression: str) -> Value:
    """The string value of the first item `expression` selects (None when none): a key field.
    ``@flag`` and ``.`` (most key fields) are read directly."""
    expr = syntax.parse(expression)
    if isinstance(expr, syntax.FlagStep) and expr.name != "*":
        flag = expr.name
        return lambda item, env: _text(item.flags.get(flag)) if isinstance(item, Node) else None
    if isinstance(expr, syntax.ContextItem):
        return lambda item, env: str(atom(item))
    compiled = compile_expr(expr)

    def first(item: Item, env: Environment) -> str | None:
        found = compiled(item, env)
        return str(atom(found[0])) if found else None

    return first


def _text(value: str | int | float | None) -> str | None:
    return None if value is None else str(value)


def step_names(expression: str) -> set[str] | None:
    """Every element name `expression` can select by name; None when it can select any (``*``)."""
    found: set[str] = set()
    pending: list[object] = [syntax.parse(expression)]
    while pending:
        expr = pending.pop()
        if isinstance(expr, syntax.ChildStep):
            if expr.name == "*":
                return None
            found.add(expr.name)
        elif isinstance(expr, (syntax.PathExpr, syntax.Comparison)):
            pending += [expr.left, expr.right]
        elif isinstance(expr, syntax.Filter):
            pending += [expr.base, expr.predicate]
        elif isinstance(expr, (syntax.Union, syntax.Sequence, syntax.Logical)):
            pending += list(expr.items)
        elif isinstance(expr, syntax.Call):
            pending += list(expr.args)
    return found


@cache
def _selectable(version: str) -> frozenset[str] | None:
    names: set[str] = set()
    for constraint in load_metaschema(version).constraints():
        for expression in (constraint.target, constraint.test, *(k.target for k in constraint.key_fields)):
            found = step_names(expression) if expression else set()
            if found is None:
                return None
            names |= found
    return frozenset(names)


def selectable_names(metaschema: Metaschema) -> frozenset[str] | None:
    """The element names the constraints of `metaschema` can select; None when one selects ``*``."""
    return _selectable(metaschema.version)
