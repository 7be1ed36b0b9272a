"""The Metapath evaluator on a small hand-made view, and what it refuses to guess."""

from __future__ import annotations

import pytest

from oscal_mcp.oscal.metaschema.metapath_eval import Environment, compile_metapath, evaluate, truth
from oscal_mcp.oscal.metaschema.metapath_shortcuts import step_names, target_guard, value_getter
from oscal_mcp.oscal.metaschema.metapath_syntax import MetapathUnsupported, parse
from oscal_mcp.oscal.metaschema.nodes import FlagRef, Item, Node, atom


def _node(tag: str, parent: Node, order: int, **flags: str | int) -> Node:
    node = Node(tag, parent, (tag,), "", order)
    for name, value in flags.items():
        node.set_flag(name, value)
    parent.add(node)
    return node


@pytest.fixture
def tree() -> tuple[Environment, Node]:
    top = Node("", None, (), "", 0)
    control = _node("control", top, 1, id="ac-1")
    _node("prop", control, 2, name="label", value="AC-1")
    _node("prop", control, 3, name="status", value="withdrawn", ns="http://example.com/ns")
    part = _node("part", control, 4, name="statement", id="ac-1_smt")
    _node("part", part, 5, name="item", id="ac-1_smt.a")
    _node("port-range", control, 6, start=443, end=80)
    by_name: dict[str, list[Node]] = {}
    for node in top.descendants_or_self()[1:]:
        by_name.setdefault(node.name, []).append(node)
    return Environment(top, by_name), control


def _values(expression: str, tree: tuple[Environment, Node]) -> list[object]:
    env, control = tree
    return [atom(item) for item in compile_metapath(expression)(control, env)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("prop/@name", ["label", "status"]),
        ("prop[has-oscal-namespace('http://csrc.nist.gov/ns/oscal')]/@name", ["label"]),
        ("prop[has-oscal-namespace(('http://example.com/ns','x'))]/@value", ["withdrawn"]),
        ("(.|part)/@id", ["ac-1", "ac-1_smt"]),
        (".//part/@name", ["statement", "item"]),
        ("//(part|prop)/@name", ["label", "status", "statement", "item"]),
        ("part[@name=('statement','x')]/part/@id", ["ac-1_smt.a"]),
        ("prop[starts-with(@value,'AC')]/@name", ["label"]),
        ("prop[2]/@name", ["status"]),
        ("part/..//@id", ["ac-1", "ac-1_smt", "ac-1_smt.a"]),
        ("count(prop)", [2]),
        ("(//part)[2]/@id", ["ac-1_smt.a"]),  # a position among nodes found from the root
        ("prop[count(//part)]/@name", ["status"]),  # a position computed from the root
        ("prop[//part]/@name", ["label", "status"]),  # a predicate path from the root
        ("part[@name='statement' and //prop]/@id", ["ac-1_smt"]),
        ("(prop | prop)/@name", ["label", "status"]),  # a union holds each node once
        ("(1, 1, 'a', 'a')", [1, 1, "a", "a"]),  # a sequence keeps its repeats
        ("//nothing", []),
        ("(. | part)//part/@id", ["ac-1_smt", "ac-1_smt.a"]),  # descendants of two contexts, each once
        ("(. | part)//(part | prop)/@id", ["ac-1_smt", "ac-1_smt.a"]),
        ("prop/(1, true())", [1, True, 1, True]),  # values from each context, repeats kept
        ("count(prop/string(@ns))", [2]),
        ("(./(prop, prop))/@name", ["label", "status"]),  # a step after a sequence with repeats drops them
        ("count((prop, prop)/.)", [2]),
    ],
)
def test_paths_predicates_unions_and_functions(
    expression: str, expected: list[object], tree: tuple[Environment, Node]
) -> None:
    assert _values(expression, tree) == expected


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        ("prop[@name='status']/@value=('withdrawn','reserved') or part[@name='statement']", True),
        ("not(exists(@depends-on))", True),
        ("exists(prop) and empty(param)", True),
        ("port-range/@start > port-range/@end", True),  # typed flags compare as numbers, not strings
        ("@id != 'ac-1'", False),
        # a number against an untyped string compares as numbers, or as strings when it is no number
        ("port-range/@start = '443'", True),
        ("'443' = port-range/@start", True),
        ("port-range/@start > '80'", True),
        ("'80' < port-range/@start", True),
        ("port-range/@start < 'x'", True),
        ("port-range/@start < '4x'", True),  # '443' < '4x' as strings
        ("'5' < '6'", True),  # two strings compare as strings, whatever they look like
        ("true() = '1'", False),  # a boolean is no number
        ("'x' > port-range/@start", True),
        ("port-range/@start = ('x', '443')", True),
        ("port-range/@start = ('x', '44')", False),
        ("port-range[@start = '443']/@end = '80'", True),  # a number flag of the context node, too
        ("port-range[@start = ('x', '443.0')]", True),
        ("port-range[@start = ('x', '44')]", False),
        ("port-range[@missing = ('x', '')]", False),
        ("@id > 1", True),
        ("@id = 1", False),
        ("prop/@name = ('status', 'x')", True),
        ("prop/@name = ('x', 'y')", False),
        ("ends-with(@id, '-1') and contains(@id, 'c-')", True),
        ("string(prop[2]/@value) = 'withdrawn'", True),
        ("boolean(()) or boolean(0) or boolean('') or false()", False),
        ("boolean(1) and boolean('x') and true()", True),
        ("exists(//part) and exists(//prop)", True),  # operands evaluated from the root
        ("empty(//part) or exists(//prop)", True),
        ("count(//part) = count(//prop)", True),
        ("count(//part) > 1", True),
        ("//part/@name = ('statement', 'x')", True),
    ],
)
def test_expect_tests(test: str, expected: bool, tree: tuple[Environment, Node]) -> None:
    env, control = tree
    assert truth(compile_metapath(test)(control, env)) is expected


def test_doc_yields_nothing_and_says_an_external_document_was_skipped(tree: tuple[Environment, Node]) -> None:
    env, control = tree
    found: list[Item] = compile_metapath("prop | doc(@id)/prop")(control, env)
    assert len(found) == 2 and env.external_documents_skipped


def test_a_guard_skips_only_contexts_without_targets(tree: tuple[Environment, Node]) -> None:
    control = tree[1]
    guard = target_guard("param[@id='x']/@label")
    assert guard is not None and not guard(control)
    both = target_guard("(.)[@id='ac-1']/prop/@name")
    assert both is not None and both(control)


def test_flag_refs_are_attribute_nodes(tree: tuple[Environment, Node]) -> None:
    env, control = tree
    (flag,) = compile_metapath("@id")(control, env)
    assert isinstance(flag, FlagRef) and flag.path == ("control", "id") and flag.value == "ac-1"


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("following-sibling::prop", "cannot read '::prop'"),
        ("ns:prop", "axis or prefixed name"),
        ("prop[", "ends early"),
        ("prop # x", "cannot read"),
    ],
)
def test_what_is_outside_the_grammar_is_refused_with_a_reason(expression: str, reason: str) -> None:
    with pytest.raises(MetapathUnsupported, match=reason):
        parse(expression)


def test_an_unknown_function_is_refused_with_its_name() -> None:
    with pytest.raises(MetapathUnsupported, match=r"function recurse-depth\(\) with 1 argument"):
        compile_metapath("recurse-depth('x')")


def test_steps_from_the_document_node_or_from_a_value_select_nothing(tree: tuple[Environment, Node]) -> None:
    env, control = tree
    assert compile_metapath("..")(env.document, env) == []
    assert compile_metapath("/")(control, env) == [env.document]
    flag = FlagRef(control, "id")
    for expression in ("..", "*", "prop", "@*", "@id", ".//part", "part//part", ".//*"):
        assert compile_metapath(expression)(flag, env) == [], expression
        assert compile_metapath(expression)("text", env) == [], expression
    for test in ("@id = 'ac-1'", "@id = ('ac-1', 'x')"):
        assert compile_metapath(test)(flag, env) == [False], test  # a flag has no flags
        assert compile_metapath(test)("text", env) == [False], test


def test_descendants_of_a_node_without_a_known_last_descendant_are_walked_once(
    tree: tuple[Environment, Node],
) -> None:
    env, control = tree
    first = compile_metapath(".//part/@id")(control, env)
    assert [atom(item) for item in first] == ["ac-1_smt", "ac-1_smt.a"]
    (part,) = control.by_name["part"]
    assert env.descendants[(id(control), "part")] == [part, *part.by_name["part"]]  # kept for the next time
    assert [atom(item) for item in compile_metapath(".//part/@id")(control, env)] == ["ac-1_smt", "ac-1_smt.a"]


def test_doc_of_nothing_skips_no_document(tree: tuple[Environment, Node]) -> None:
    env, control = tree
    assert compile_metapath("doc(@missing)")(control, env) == []
    assert not env.external_documents_skipped


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("prop[has-oscal-namespace(string(@ns))]/@name", ["status"]),  # an argument known only when evaluated
        ("prop/@name[has-oscal-namespace('http://example.com/ns')]", ["status"]),  # a flag's node's namespace
        ("prop[has-oscal-namespace(('x', 'http://csrc.nist.gov/ns/oscal'))]/@name", ["label"]),
    ],
)
def test_has_oscal_namespace_reads_the_ns_flag_of_the_node(
    expression: str, expected: list[object], tree: tuple[Environment, Node]
) -> None:
    assert _values(expression, tree) == expected


def test_a_value_has_the_oscal_namespace(tree: tuple[Environment, Node]) -> None:
    env, _ = tree
    assert compile_metapath("has-oscal-namespace('http://csrc.nist.gov/ns/oscal')")("text", env) == [True]
    assert compile_metapath("has-oscal-namespace(('http://csrc.nist.gov/ns/oscal'))")(3, env) == [True]


def test_a_comparison_python_cannot_make_is_false_not_an_error(tree: tuple[Environment, Node]) -> None:
    env, control = tree
    assert compile_metapath("true() < 'x'")(control, env) == [False]
    assert compile_metapath("true() < ('x', 2)")(control, env) == [True]  # the next pair still compares


def test_evaluate_compiles_and_runs_in_one_call(tree: tuple[Environment, Node]) -> None:
    env, control = tree
    assert [atom(item) for item in evaluate("//prop/@name", control, env)] == ["label", "status"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("prop", True),
        ("param", False),
        ("@id", True),
        ("@class", False),
        ("*", None),
        ("@*", None),
        ("prop/@name", True),
        ("param/@x", False),
        ("(.)[@id='ac-1']/prop", True),
        ("(.)[@id='x']/prop", False),
        ("prop[@name='label']", True),
        ("prop[@name='x']", False),
        ("prop[@name=('x', 'label')]", True),
        ("prop[@ns]", True),
        ("part[@ns]", False),
        ("prop[2]", True),
        ("param[2]", False),
        ("prop[true()]", True),
        ("*[@name='x']", None),
        ("prop and param", False),
        ("prop and .", True),
        (". and .", None),
        ("prop or param", None),
        ("@id = 'x'", False),
        ("@id = 'ac-1'", True),
        ("@id = @class", True),  # not literals: only the flag on the left is needed
        ("@class = @id", False),
        ("prop = 'x'", True),
        ("@id != 'x'", None),
        ("@id = ('x', 'y')", False),
        ("@* = 'ac-1'", None),  # any flag may hold it
        ("param | prop", True),
        ("param | part[@name='x']", False),
        ("param | .", None),
        ("//prop", None),
    ],
)
def test_a_target_guard_is_false_only_where_nothing_can_be_selected(
    target: str, expected: bool | None, tree: tuple[Environment, Node]
) -> None:
    env, control = tree
    guard = target_guard(target)
    assert (None if guard is None else guard(control)) is expected
    if guard is not None and not guard(control):
        assert compile_metapath(target)(control, env) in ([], [False])


def test_a_guard_never_skips_a_number_flag_for_a_string(tree: tuple[Environment, Node]) -> None:
    (port_range,) = tree[1].by_name["port-range"]
    guard = target_guard("@start = 'x'")
    assert guard is not None and guard(port_range)  # 443 compares as a number: evaluated, not skipped


@pytest.mark.parametrize(
    ("key_field", "on_flag", "expected"),
    [
        ("@id", False, "ac-1"),
        ("@missing", False, None),
        ("@id", True, None),  # a flag has no flags
        (".", True, "ac-1"),
        (".", False, ""),
        ("prop/@name", False, "label"),
        ("param/@x", False, None),
        ("port-range/@start", False, "443"),
    ],
)
def test_a_key_field_value_is_the_text_of_its_first_item(
    key_field: str, on_flag: bool, expected: str | None, tree: tuple[Environment, Node]
) -> None:
    env, control = tree
    item: Item = FlagRef(control, "id") if on_flag else control
    assert value_getter(key_field)(item, env) == expected


def test_a_number_flag_key_is_its_text(tree: tuple[Environment, Node]) -> None:
    env, control = tree
    (port_range,) = control.by_name["port-range"]
    assert value_getter("@start")(port_range, env) == "443"


def test_has_oscal_namespace_of_a_node_in_another_namespace(tree: tuple[Environment, Node]) -> None:
    env, control = tree
    status = control.by_name["prop"][1]
    assert compile_metapath("has-oscal-namespace('http://example.com/ns')")(status, env) == [True]
    assert compile_metapath("has-oscal-namespace('http://csrc.nist.gov/ns/oscal')")(status, env) == [False]
    found = compile_metapath("prop[has-oscal-namespace(string(//prop[@ns]/@ns))]/@name")(control, env)
    assert [atom(item) for item in found] == ["status"]  # an argument evaluated from the root


def test_a_namespace_given_as_a_number_is_compared_as_text(tree: tuple[Environment, Node]) -> None:
    env, control = tree
    odd = _node("prop", control, 7, name="odd", ns=5)
    assert compile_metapath("has-oscal-namespace('5')")(odd, env) == [True]
    assert compile_metapath("has-oscal-namespace(string(@ns))")(odd, env) == [True]


def test_doc_of_an_href_found_from_the_root_is_skipped_and_recorded(tree: tuple[Environment, Node]) -> None:
    env, control = tree
    assert compile_metapath("doc(//prop/@name)")(control, env) == []
    assert env.external_documents_skipped


@pytest.mark.parametrize(
    "expression",
    ["prop[has-oscal-namespace()]", "prop[has-oscal-namespace('a', 'b')]", "part[not()]", "part[not(1, 2)]"],
)
def test_a_function_with_the_wrong_number_of_arguments_is_refused_in_a_predicate_too(expression: str) -> None:
    with pytest.raises(MetapathUnsupported, match=r"function (has-oscal-namespace|not)\(\) with [02] argument"):
        compile_metapath(expression)


def test_step_names_are_every_name_an_expression_can_select() -> None:
    assert step_names("(a/b) = (c[d], e | f, g(h, i))") == {"a", "b", "c", "d", "e", "f", "h", "i"}
    assert step_names("(c, a/b)") == {"a", "b", "c"}  # a path met last keeps what is still to visit
    assert step_names("(c, a = b)") == {"a", "b", "c"}
    assert step_names("@x and 'y'") == set()
    assert step_names("a/*") is None  # any name
