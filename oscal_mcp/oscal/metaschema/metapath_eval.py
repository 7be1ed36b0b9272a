"""Evaluating Metapath syntax trees (`metapath_syntax.py`) over the node view (`nodes.py`).

Each expression is compiled once into Python closures, ``(context item, environment) -> items``;
paths keep document order and drop repeated nodes as XPath paths do (XPath 3.1, section 3.3.1.1).
The functions are those of XPath 3.1 that constraints use, plus Metapath's
``has-oscal-namespace`` (true when the context node's ``ns`` flag, or OSCAL's namespace when it
has none, is among the arguments). ``doc()`` names another document (an imported SSP); nothing
is fetched while validating, so it yields nothing and records that in the environment, which
the constraint level reports instead of guessing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from functools import cache

from oscal_mcp.oscal.metaschema import metapath_syntax as syntax
from oscal_mcp.oscal.metaschema.metapath_values import Compiled as Compiled
from oscal_mcp.oscal.metaschema.metapath_values import Environment as Environment
from oscal_mcp.oscal.metaschema.metapath_values import distinct as distinct
from oscal_mcp.oscal.metaschema.metapath_values import document_order as document_order
from oscal_mcp.oscal.metaschema.metapath_values import truth as truth
from oscal_mcp.oscal.metaschema.nodes import FlagRef, Item, Node, atom

NIST_OSCAL_NAMESPACE = "http://csrc.nist.gov/ns/oscal"


@cache
def compile_metapath(expression: str) -> Compiled:
    """The evaluator of `expression`, compiled once per process (raises `MetapathUnsupported`)."""
    return compile_expr(syntax.parse(expression))


def evaluate(expression: str, item: Item, env: Environment) -> list[Item]:
    return compile_metapath(expression)(item, env)


def compile_expr(expr: syntax.Expr) -> Compiled:
    if isinstance(expr, syntax.Literal):
        value = expr.value
        return lambda item, env: [value]
    if isinstance(expr, syntax.ContextItem):
        return lambda item, env: [item]
    if isinstance(expr, syntax.ParentNode):
        return lambda item, env: [item.parent] if isinstance(item, Node) and item.parent else []
    if isinstance(expr, syntax.RootNode):
        return lambda item, env: [env.document]
    if isinstance(expr, syntax.DescendantOrSelf):
        return lambda item, env: item.descendants_or_self() if isinstance(item, Node) else []  # type: ignore[return-value]
    if isinstance(expr, syntax.ChildStep):
        return _child_step(expr.name)
    if isinstance(expr, syntax.FlagStep):
        return _flag_step(expr.name)
    if isinstance(expr, syntax.PathExpr):
        return _compile_path(expr)
    if isinstance(expr, syntax.Filter):
        test = _compile_test(expr.predicate)
        if test is not None:
            return _filter_by_test(compile_expr(expr.base), test)
        return _filter(compile_expr(expr.base), compile_expr(expr.predicate))
    if isinstance(expr, (syntax.Union, syntax.Sequence)):
        return _concat([compile_expr(part) for part in expr.items], unique=isinstance(expr, syntax.Union))
    if isinstance(expr, syntax.Logical):
        return _logical(expr.operator, [compile_expr(part) for part in expr.items])
    if isinstance(expr, syntax.Comparison):
        fast = _flag_in_literals(expr) or _in_literals(expr)
        if fast is not None:
            return fast
        return _comparison(expr.operator, compile_expr(expr.left), compile_expr(expr.right))
    if expr.name == "has-oscal-namespace" and len(expr.args) == 1 and (namespaces := _literals(expr.args[0])):
        return _has_oscal_namespace_in(namespaces)
    return _call(expr.name, [compile_expr(arg) for arg in expr.args])


def _child_step(name: str) -> Compiled:
    if name == "*":
        return lambda item, env: list(item.children) if isinstance(item, Node) else []
    return lambda item, env: list(item.by_name.get(name, ())) if isinstance(item, Node) else []


def _flag_step(name: str) -> Compiled:
    def flags(item: Item, env: Environment) -> list[Item]:
        if not isinstance(item, Node):
            return []
        if name == "*":
            return [FlagRef(item, flag) for flag in item.flags]
        return [FlagRef(item, name)] if name in item.flags else []

    return flags


def _compile_path(expr: syntax.PathExpr) -> Compiled:
    # X//name (X/descendant-or-self::node()/child::name) is X/descendant::name: one walk per node.
    if (
        isinstance(expr.left, syntax.PathExpr)
        and isinstance(expr.left.right, syntax.DescendantOrSelf)
        and isinstance(expr.right, syntax.ChildStep)
        and expr.right.name != "*"
    ):
        return _path(compile_expr(expr.left.left), _descendants_named(expr.right.name), nodes_only=True)
    # X//(a|b) likewise, one walk per name, merged in document order
    if (
        isinstance(expr.left, syntax.PathExpr)
        and isinstance(expr.left.right, syntax.DescendantOrSelf)
        and isinstance(expr.right, syntax.Union)
        and all(isinstance(part, syntax.ChildStep) and part.name != "*" for part in expr.right.items)
    ):
        walks = [_descendants_named(part.name) for part in expr.right.items]  # type: ignore[union-attr]
        merged = _concat(walks, unique=True)
        ordered: Compiled = lambda item, env: document_order(merged(item, env))  # noqa: E731
        return _path(compile_expr(expr.left.left), ordered, nodes_only=True)
    right = expr.right
    # children or flags of distinct nodes are distinct: nothing to drop
    disjoint = isinstance(right, (syntax.ChildStep, syntax.FlagStep)) and _distinct_nodes(expr.left)
    if disjoint and right.name != "*":  # type: ignore[union-attr]
        step = _flags_of if isinstance(right, syntax.FlagStep) else _children_of
        return step(compile_expr(expr.left), right.name)  # type: ignore[union-attr]
    return _path(compile_expr(expr.left), compile_expr(right), nodes_only=_only_nodes(right), disjoint=disjoint)


def _flags_of(left: Compiled, name: str) -> Compiled:
    """``left/@name`` where `left` yields distinct nodes: one pass, no list per node."""
    return lambda item, env: [
        FlagRef(node, name) for node in left(item, env) if isinstance(node, Node) and name in node.flags
    ]


def _children_of(left: Compiled, name: str) -> Compiled:
    """``left/name`` where `left` yields distinct nodes: one pass, no list per node."""

    def children(item: Item, env: Environment) -> list[Item]:
        found: list[Item] = []
        for node in left(item, env):
            if isinstance(node, Node):
                found.extend(node.by_name.get(name, ()))
        return found

    return children


def _only_nodes(expr: syntax.Expr) -> bool:
    """Whether `expr` yields nodes only (never atomic values), whatever its context."""
    if isinstance(expr, (syntax.ChildStep, syntax.FlagStep, syntax.ParentNode, syntax.RootNode)):
        return True
    if isinstance(expr, syntax.DescendantOrSelf):
        return True
    if isinstance(expr, syntax.PathExpr):
        return _only_nodes(expr.right)
    if isinstance(expr, syntax.Filter):
        return _only_nodes(expr.base)
    if isinstance(expr, syntax.Union):
        return all(_only_nodes(part) for part in expr.items)
    return False


def _distinct_nodes(expr: syntax.Expr) -> bool:
    """Whether `expr` yields nodes without repeats from one context node (paths and unions drop
    repeats; a comma sequence, a function or the context item may not be nodes)."""
    if isinstance(expr, syntax.Filter):
        return _distinct_nodes(expr.base)
    return isinstance(
        expr, (syntax.ChildStep, syntax.FlagStep, syntax.ParentNode, syntax.RootNode, syntax.PathExpr, syntax.Union)
    ) and _only_nodes(expr)


def _descendants_named(name: str) -> Compiled:
    def walk(item: Item, env: Environment) -> list[Item]:
        if not isinstance(item, Node):
            return []
        if item is env.document and env.by_name:
            return list(env.by_name.get(name, ()))
        if item.last is not None and env.by_name:
            # the nodes so named ordered after it, up to its last descendant (document order)
            named: list[Item] = env.by_name.get(name) or []  # type: ignore[assignment]
            start = bisect_right(named, item.order, key=_order)
            return named[start : bisect_right(named, item.last, lo=start, key=_order)]
        known = env.descendants.get((id(item), name))
        if known is None:
            known = []
            pending = list(reversed(item.children))
            while pending:
                node = pending.pop()
                if node.name == name:
                    known.append(node)
                pending.extend(reversed(node.children))
            env.descendants[(id(item), name)] = known
        return list(known)

    return walk


def _order(item: Item) -> int:
    return item.order  # type: ignore[union-attr]


def _path(left: Compiled, right: Compiled, *, nodes_only: bool = False, disjoint: bool = False) -> Compiled:
    """``left/right``; repeated nodes dropped (nodes compare by identity, so a dict of nodes does
    it), values kept as they come, repeats too (XPath 3.1, section 3.3.1.1)."""

    def path(item: Item, env: Environment) -> list[Item]:
        contexts = left(item, env)
        if len(contexts) == 1:
            return right(contexts[0], env)
        found: list[Item] = []
        for context in contexts:
            found.extend(right(context, env))
        if disjoint:
            return found
        if nodes_only or all(isinstance(value, (Node, FlagRef)) for value in found):
            return list(dict.fromkeys(found))
        return found

    return path


def _filter(base: Compiled, predicate: Compiled) -> Compiled:
    def keep(item: Item, env: Environment) -> list[Item]:
        candidates = base(item, env)
        kept: list[Item] = []
        for position, candidate in enumerate(candidates, start=1):
            result = predicate(candidate, env)
            if len(result) == 1 and isinstance(result[0], int) and not isinstance(result[0], bool):
                if result[0] == position:
                    kept.append(candidate)
            elif truth(result):
                kept.append(candidate)
        return kept

    return keep


Test = Callable[[Item, Environment], bool]


def _compile_test(expr: syntax.Expr) -> Test | None:
    """A predicate known to be boolean (never a position), compiled to return a bool directly;
    None when it may be a number (``[2]``), which the general filter handles."""
    if isinstance(expr, syntax.Logical):
        parts = [_compile_test(part) or _as_test(compile_expr(part)) for part in expr.items]
        if expr.operator == "and":
            return lambda item, env: all(part(item, env) for part in parts)
        return lambda item, env: any(part(item, env) for part in parts)
    if isinstance(expr, syntax.Comparison):
        compiled = compile_expr(expr)
        return lambda item, env: compiled(item, env)[0] is True
    if isinstance(expr, syntax.Call) and expr.name == "has-oscal-namespace" and len(expr.args) == 1:
        namespaces = _literals(expr.args[0])
        if namespaces:
            return lambda item, env: _namespace_of(item) in namespaces
    if isinstance(expr, syntax.Call) and expr.name == "not" and len(expr.args) == 1:
        inner = _compile_test(expr.args[0]) or _as_test(compile_expr(expr.args[0]))
        return lambda item, env: not inner(item, env)
    if isinstance(expr, syntax.Call) and expr.name in ("has-oscal-namespace", "starts-with", "exists", "empty"):
        compiled = compile_expr(expr)
        return lambda item, env: compiled(item, env)[0] is True
    if isinstance(expr, (syntax.ChildStep, syntax.FlagStep)) or (
        isinstance(expr, syntax.PathExpr) and _only_nodes(expr)
    ):
        return _as_test(compile_expr(expr))  # a node sequence: true when not empty
    return None  # may be a number (``[2]``, ``[./count(x)]``): a position


def _as_test(compiled: Compiled) -> Test:
    return lambda item, env: truth(compiled(item, env))


def _filter_by_test(base: Compiled, test: Test) -> Compiled:
    return lambda item, env: [candidate for candidate in base(item, env) if test(candidate, env)]


def _concat(parts: list[Compiled], *, unique: bool) -> Compiled:
    def concat(item: Item, env: Environment) -> list[Item]:
        found: list[Item] = []
        for part in parts:
            found.extend(part(item, env))
        return distinct(found) if unique else found

    return concat


def _logical(operator: str, parts: list[Compiled]) -> Compiled:
    if operator == "and":
        return lambda item, env: [all(truth(part(item, env)) for part in parts)]
    return lambda item, env: [any(truth(part(item, env)) for part in parts)]


_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


def _comparable(a: object, b: object) -> tuple[object, object]:
    """Untyped values compare as numbers against a number, else as strings (XPath 3.1, 3.7.2)."""
    if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, str):
        try:
            return a, float(b)
        except ValueError:
            return str(a), b
    if isinstance(b, (int, float)) and not isinstance(b, bool) and isinstance(a, str):
        second, first = _comparable(b, a)
        return first, second
    return a, b


def _literals(expr: syntax.Expr) -> frozenset[str] | None:
    if isinstance(expr, syntax.Literal) and isinstance(expr.value, str):
        return frozenset({expr.value})
    if isinstance(expr, syntax.Sequence) and all(
        isinstance(i, syntax.Literal) and isinstance(i.value, str) for i in expr.items
    ):
        return frozenset(str(i.value) for i in expr.items)  # type: ignore[union-attr]
    return None


def _flag_in_literals(expr: syntax.Comparison) -> Compiled | None:
    """``@flag = 'a'`` or ``@flag = ('a', 'b')``: a set lookup for a string flag, same result as the
    general case; a number flag compares with each literal as a number, as there."""
    values = _literals(expr.right)
    if expr.operator != "=" or values is None or not isinstance(expr.left, syntax.FlagStep) or expr.left.name == "*":
        return None
    flag = expr.left.name

    def equals(item: Item, env: Environment) -> list[Item]:
        value = item.flags.get(flag) if isinstance(item, Node) else None
        if value is None or type(value) is str:
            return [value in values]
        return [any(a == b for a, b in (_comparable(value, literal) for literal in values))]

    return equals


def _in_literals(expr: syntax.Comparison) -> Compiled | None:
    """``path = ('a', 'b')``: a string value is looked up in a set; any other value compares with
    each literal as the general case does."""
    values = _literals(expr.right)
    if expr.operator != "=" or values is None:
        return None
    left, literals = compile_expr(expr.left), sorted(values)

    def compare(item: Item, env: Environment) -> list[Item]:
        for value in left(item, env):
            first = atom(value)
            if type(first) is str:
                if first in values:
                    return [True]
                continue
            for second in literals:
                a, b = _comparable(first, second)
                if a == b:
                    return [True]
        return [False]

    return compare


def _comparison(operator: str, left: Compiled, right: Compiled) -> Compiled:
    test = _COMPARE[operator]

    def compare(item: Item, env: Environment) -> list[Item]:
        rights = [atom(value) for value in right(item, env)]
        for value in left(item, env):
            first = atom(value)
            for second in rights:
                a, b = _comparable(first, second)
                try:
                    if test(a, b):
                        return [True]
                except TypeError:
                    continue
        return [False]

    return compare


def _call(name: str, args: list[Compiled]) -> Compiled:
    factory = _FUNCTIONS.get((name, len(args)))
    if factory is None:
        raise syntax.MetapathUnsupported(f"function {name}() with {len(args)} argument(s) is not implemented")
    return factory(args)


def _string(items: list[Item]) -> str:
    return str(atom(items[0])) if items else ""


def _has_oscal_namespace(args: list[Compiled]) -> Compiled:
    def has(item: Item, env: Environment) -> list[Item]:
        return [_namespace_of(item) in {str(atom(value)) for value in args[0](item, env)}]

    return has


def _has_oscal_namespace_in(namespaces: frozenset[str]) -> Compiled:
    """`has-oscal-namespace` with literal arguments (all of NIST's): a set lookup."""
    return lambda item, env: [_namespace_of(item) in namespaces]


def _namespace_of(item: Item) -> str:
    """The ``ns`` flag of a node (of a flag's node: ``ns`` qualifies the ``name`` beside it)."""
    node = item if type(item) is Node else item.owner if isinstance(item, FlagRef) else item
    if not isinstance(node, Node):
        return NIST_OSCAL_NAMESPACE
    namespace = node.flags.get("ns", NIST_OSCAL_NAMESPACE)
    return namespace if type(namespace) is str else str(namespace)


def _doc(args: list[Compiled]) -> Compiled:
    def doc(item: Item, env: Environment) -> list[Item]:
        if args[0](item, env):
            env.external_documents_skipped = True
        return []

    return doc


_FUNCTIONS: dict[tuple[str, int], Callable[[list[Compiled]], Compiled]] = {
    ("not", 1): lambda a: lambda item, env: [not truth(a[0](item, env))],
    ("exists", 1): lambda a: lambda item, env: [bool(a[0](item, env))],
    ("empty", 1): lambda a: lambda item, env: [not a[0](item, env)],
    ("boolean", 1): lambda a: lambda item, env: [truth(a[0](item, env))],
    ("count", 1): lambda a: lambda item, env: [len(a[0](item, env))],
    ("true", 0): lambda a: lambda item, env: [True],
    ("false", 0): lambda a: lambda item, env: [False],
    ("string", 1): lambda a: lambda item, env: [_string(a[0](item, env))],
    ("starts-with", 2): lambda a: lambda item, env: [_string(a[0](item, env)).startswith(_string(a[1](item, env)))],
    ("ends-with", 2): lambda a: lambda item, env: [_string(a[0](item, env)).endswith(_string(a[1](item, env)))],
    ("contains", 2): lambda a: lambda item, env: [_string(a[1](item, env)) in _string(a[0](item, env))],
    ("has-oscal-namespace", 1): _has_oscal_namespace,
    ("doc", 1): _doc,
}
