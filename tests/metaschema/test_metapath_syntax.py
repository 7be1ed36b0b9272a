"""Parsing Metapath into its syntax tree: precedence, paths from the root, steps, and the refusals."""

from __future__ import annotations

import re

import pytest

from oscal_mcp.oscal.metaschema.metapath_syntax import (
    Call,
    ChildStep,
    Comparison,
    ContextItem,
    DescendantOrSelf,
    Expr,
    Filter,
    FlagStep,
    Literal,
    Logical,
    MetapathUnsupported,
    ParentNode,
    PathExpr,
    RootNode,
    Sequence,
    Union,
    parse,
    tokenize,
)

A, B, C = ChildStep("a"), ChildStep("b"), ChildStep("c")


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a, b", Sequence((A, B))),
        ("a or b or c", Logical("or", (A, B, C))),
        ("a and b", Logical("and", (A, B))),
        (
            "a or b and c = d | e",
            Logical("or", (A, Logical("and", (B, Comparison("=", C, Union((ChildStep("d"), ChildStep("e")))))))),
        ),
        ("orb", ChildStep("orb")),  # a name that starts with an operator word is a name
        ("a = 1", Comparison("=", A, Literal(1))),
        ('@x != "y"', Comparison("!=", FlagStep("x"), Literal("y"))),
        ("a<b", Comparison("<", A, B)),
        ("a <= b", Comparison("<=", A, B)),
        ("a>b", Comparison(">", A, B)),
        ("a >= b", Comparison(">=", A, B)),
        ("a|b|c", Union((A, B, C))),
        ("a/b/c", PathExpr(PathExpr(A, B), C)),
        ("a//b", PathExpr(PathExpr(A, DescendantOrSelf()), B)),
        ("//a/b", PathExpr(PathExpr(PathExpr(RootNode(), DescendantOrSelf()), A), B)),
        ("/", RootNode()),
        ("/ = 1", Comparison("=", RootNode(), Literal(1))),
        ("/a", PathExpr(RootNode(), A)),
        ("/@x", PathExpr(RootNode(), FlagStep("x"))),
        ("/.", PathExpr(RootNode(), ContextItem())),
        ("/..", PathExpr(RootNode(), ParentNode())),
        ("/(a)", PathExpr(RootNode(), A)),
        ("/*", PathExpr(RootNode(), ChildStep("*"))),
        ("/'s'", PathExpr(RootNode(), Literal("s"))),
        ("/1", PathExpr(RootNode(), Literal(1))),
        ("a[1][@x]", Filter(Filter(A, Literal(1)), FlagStep("x"))),
        ("(a, b)[2]", Filter(Sequence((A, B)), Literal(2))),
        ("()", Sequence(())),
        ("(a)", A),
        (".", ContextItem()),
        ("..", ParentNode()),
        ("*", ChildStep("*")),
        ("@*", FlagStep("*")),
        ("a/@b", PathExpr(A, FlagStep("b"))),
        ("f()", Call("f", ())),
        ("f(a, b)", Call("f", (A, B))),
        ("f(a or b, 'x')", Call("f", (Logical("or", (A, B)), Literal("x")))),
        ("ns:f(1)", Call("ns:f", (Literal(1),))),
        ("x-y.z_1", ChildStep("x-y.z_1")),
        ("  a  ", A),
    ],
)
def test_an_expression_parses_to_its_tree(text: str, tree: Expr) -> None:
    assert parse(text) == tree


def test_tokens_carry_their_kind_and_text() -> None:
    assert tokenize(' a//b[@x="1"] , 12 ') == [
        ("name", "a"),
        ("op", "//"),
        ("name", "b"),
        ("op", "["),
        ("op", "@"),
        ("name", "x"),
        ("op", "="),
        ("string", '"1"'),
        ("op", "]"),
        ("op", ","),
        ("number", "12"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unexpected 'b' in 'a b'"),
        ("a)", "unexpected ')' in 'a)'"),
        (")", "unexpected ')' in ')'"),
        ("@", "expected more in '@'"),
        ("a[1", "expected ] in 'a[1'"),
        ("(a", "expected ) in '(a'"),
        ("f(a", "expression ends early: 'f(a'"),
        ("a or", "expression ends early: 'a or'"),
        ("a:b", "axis or prefixed name 'a:b' in 'a:b'"),
        ("a # 123456789012345678901234", "cannot read ' # 12345678901234567' in 'a # 123456789012345678901234'"),
    ],
)
def test_a_refusal_says_what_and_where(text: str, message: str) -> None:
    with pytest.raises(MetapathUnsupported, match=f"^{re.escape(message)}$"):
        parse(text)
