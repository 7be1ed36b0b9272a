"""Parsing Metapath, the XPath 3.1 dialect of Metaschema constraints, into a small syntax tree.

The grammar is the part of XPath 3.1 (W3C XPath 3.1, section 3) that constraints are written in:
comma sequences, ``or``, ``and``, general comparisons (``=``, ``!=``, ``<``, ``<=``, ``>``,
``>=``), unions (``|``), paths with ``/`` and ``//`` from the context or the root, steps naming a
child, ``*``, ``@flag``, ``.`` and ``..``, parenthesised expressions as steps, predicates,
string and integer literals and function calls. What falls outside it raises `MetapathUnsupported`
with the reason, so the coverage test can name any expression that cannot be evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'[^']*'|\"[^\"]*\")|(?P<number>\d+)|(?P<op>//|\.\.|!=|<=|>=|[/\[\]()@,|=<>.*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?))"
)


class MetapathUnsupported(Exception):
    """An expression uses Metapath this evaluator does not implement (the message says what)."""


@dataclass(frozen=True)
class Literal:
    value: str | int


@dataclass(frozen=True)
class Sequence:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class ContextItem:
    pass


@dataclass(frozen=True)
class ParentNode:
    pass


@dataclass(frozen=True)
class RootNode:
    pass


@dataclass(frozen=True)
class DescendantOrSelf:
    pass


@dataclass(frozen=True)
class ChildStep:
    name: str  # "*" for any child


@dataclass(frozen=True)
class FlagStep:
    name: str  # "*" for any flag


@dataclass(frozen=True)
class PathExpr:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Filter:
    base: Expr
    predicate: Expr


@dataclass(frozen=True)
class Union:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Logical:
    operator: str  # "and" | "or"
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Comparison:
    operator: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]


Expr = (
    Literal
    | Sequence
    | ContextItem
    | ParentNode
    | RootNode
    | DescendantOrSelf
    | ChildStep
    | FlagStep
    | PathExpr
    | Filter
    | Union
    | Logical
    | Comparison
    | Call
)
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MetapathUnsupported(f"cannot read {text[position : position + 20]!r} in {text!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match[kind]))
        position = match.end()
    return tokens


def parse(text: str) -> Expr:
    """The syntax tree of `text`; raises `MetapathUnsupported` for what is outside the grammar."""
    parser = _Parser(tokenize(text), text)
    expr = parser.expression()
    if parser.peek() is not None:
        raise MetapathUnsupported(f"unexpected {parser.peek()!r} in {text!r}")
    return expr


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self._tokens = tokens
        self._text = text
        self._at = 0

    def peek(self) -> str | None:
        return self._tokens[self._at][1] if self._at < len(self._tokens) else None

    def _kind(self) -> str | None:
        return self._tokens[self._at][0] if self._at < len(self._tokens) else None

    def _take(self, expected: str | None = None) -> str:
        value = self.peek()
        if value is None or (expected is not None and value != expected):
            raise MetapathUnsupported(f"expected {expected or 'more'} in {self._text!r}")
        self._at += 1
        return value

    def expression(self) -> Expr:
        items = [self._or()]
        while self.peek() == ",":
            self._take(",")
            items.append(self._or())
        return items[0] if len(items) == 1 else Sequence(tuple(items))

    def _or(self) -> Expr:
        return self._logical("or", self._and)

    def _and(self) -> Expr:
        return self._logical("and", self._comparison)

    def _logical(self, operator: str, operand: object) -> Expr:
        parse_operand = operand  # a bound method returning Expr
        items = [parse_operand()]  # type: ignore[operator]
        while self.peek() == operator and self._kind() == "name":
            self._take()
            items.append(parse_operand())  # type: ignore[operator]
        return items[0] if len(items) == 1 else Logical(operator, tuple(items))

    def _comparison(self) -> Expr:
        left = self._union()
        if self.peek() in _COMPARISONS and self._kind() == "op":
            operator = self._take()
            return Comparison(operator, left, self._union())
        return left

    def _union(self) -> Expr:
        items = [self._path()]
        while self.peek() == "|":
            self._take("|")
            items.append(self._path())
        return items[0] if len(items) == 1 else Union(tuple(items))

    def _path(self) -> Expr:
        if self.peek() == "//":
            self._take()
            expr: Expr = PathExpr(PathExpr(RootNode(), DescendantOrSelf()), self._step())
        elif self.peek() == "/":
            self._take()
            if not self._starts_step():
                return RootNode()
            expr = PathExpr(RootNode(), self._step())
        else:
            expr = self._step()
        while self.peek() in ("/", "//"):
            if self._take() == "//":
                expr = PathExpr(expr, DescendantOrSelf())
            expr = PathExpr(expr, self._step())
        return expr

    def _starts_step(self) -> bool:
        value = self.peek()
        return value is not None and (
            self._kind() in ("name", "string", "number") or value in ("@", ".", "..", "(", "*")
        )

    def _step(self) -> Expr:
        expr = self._primary()
        while self.peek() == "[":
            self._take("[")
            expr = Filter(expr, self.expression())
            self._take("]")
        return expr

    def _primary(self) -> Expr:
        kind, value = self._kind(), self.peek()
        if value is None:
            raise MetapathUnsupported(f"expression ends early: {self._text!r}")
        self._take()
        if kind == "string":
            return Literal(value[1:-1])
        if kind == "number":
            return Literal(int(value))
        if value == "(":
            if self.peek() == ")":
                self._take(")")
                return Sequence(())
            inner = self.expression()
            self._take(")")
            return inner
        if value == ".":
            return ContextItem()
        if value == "..":
            return ParentNode()
        if value == "*":
            return ChildStep("*")
        if value == "@":
            name = self._take()
            return FlagStep(name)
        if kind == "name":
            return self._name(value)
        raise MetapathUnsupported(f"unexpected {value!r} in {self._text!r}")

    def _name(self, name: str) -> Expr:
        if self.peek() != "(":
            if ":" in name:
                raise MetapathUnsupported(f"axis or prefixed name {name!r} in {self._text!r}")
            return ChildStep(name)
        self._take("(")
        args: list[Expr] = []
        while self.peek() != ")":
            args.append(self._or())
            if self.peek() == ",":
                self._take(",")
        self._take(")")
        return Call(name, tuple(args))
