"""Our Metapath evaluator against elementpath's XPath 3.1 engine, expression by expression.

The constraint level evaluates NIST's Metapath with its own small evaluator (`metapath_eval`),
chosen for speed. Here every target (and every expect test) of every constraint is also run by
elementpath over an ElementTree copy of the same document view, with the same context nodes, and
both must select the same nodes. Metapath's ``has-oscal-namespace`` is given to elementpath as a
function of its own; ``doc()`` constraints are left out (no second document exists here), and so
are tests comparing flags with ``<``/``>``, where Metapath compares typed flags and plain XPath over
untyped XML compares strings.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from elementpath import XPathContext, get_node_tree
from elementpath.xpath31 import XPath31Parser
from elementpath.xpath_nodes import AttributeNode, ElementNode

from oscal_mcp.content import read_bundled
from oscal_mcp.oscal.metaschema.instance import build_view
from oscal_mcp.oscal.metaschema.metapath_eval import Environment, compile_metapath, truth
from oscal_mcp.oscal.metaschema.metapath_shortcuts import target_guard
from oscal_mcp.oscal.metaschema.nodes import FlagRef, Item, Node, atom
from oscal_mcp.oscal.metaschema.registry import load_metaschema
from tests.metaschema.corpus import ALL, fresh

OSCAL = "http://csrc.nist.gov/ns/oscal"


class _Oracle(XPath31Parser):
    """XPath 3.1 plus Metapath's has-oscal-namespace (elementpath's own extension point)."""


@_Oracle.method(_Oracle.function("has-oscal-namespace", nargs=1, sequence_types=("xs:string*", "xs:boolean")))
def evaluate_has_oscal_namespace(self: Any, context: Any = None) -> bool:
    item = context.item
    element = _element(item.parent if isinstance(item, AttributeNode) else item)
    return element.get("ns", OSCAL) in {str(v) for v in self[0].select(context)}


def _element(node: Any) -> ET.Element:
    element: ET.Element = node.obj
    return element


def _tree(node: Node, elements: dict[int, Node]) -> ET.Element:
    element = ET.Element(node.name, {name: str(value) for name, value in node.flags.items()})
    element.text = node.text
    elements[id(element)] = node
    element.extend(_tree(child, elements) for child in node.children)
    return element


def _ours(items: list[Item]) -> set[tuple[Any, ...]]:
    return {("flag", id(i.owner), i.name) if isinstance(i, FlagRef) else ("node", id(i)) for i in items}


def _theirs(items: Any, elements: dict[int, Node]) -> set[tuple[Any, ...]]:
    found: set[tuple[Any, ...]] = set()
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, AttributeNode):
            found.add(("flag", id(elements[id(_element(item.parent))]), item.name))
        elif isinstance(item, ElementNode):
            found.add(("node", id(elements[id(_element(item))])))
    return found


def _compare_test(
    test: str, targets: list[Item], tree: Any, element_of: dict[int, ET.Element], env: Environment, parser: Any
) -> int:
    """The expect test gives the same answer on each target with both engines."""
    theirs_test = parser.parse(f"boolean({test})")
    for target in targets:
        assert isinstance(target, Node)
        item = tree.get_element_node(element_of[id(target)])
        assert truth(compile_metapath(test)(target, env)) is theirs_test.evaluate(XPathContext(tree, item=item)), test
    return len(targets)


def _documents() -> list[tuple[str, dict[str, Any]]]:
    examples = sorted((Path(__file__).parent / "nist_examples").glob("*.json"))
    catalog = json.loads(read_bundled("nist/sp800-53-rev5/NIST_SP-800-53_rev5_catalog.json"))
    catalog["catalog"]["groups"] = catalog["catalog"]["groups"][:2]  # AC and AT: nested controls, every kind of part
    return [
        *((model, fresh(model)) for model in ALL),
        *((path.name, json.loads(path.read_text())) for path in examples),
        ("SP 800-53 AC and AT", catalog),
    ]


@pytest.mark.parametrize(("name", "document"), _documents(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_target_and_test_selects_what_xpath_selects(name: str, document: dict[str, Any]) -> None:
    metaschema = load_metaschema("1.2.3")
    view = build_view(document, metaschema)
    assert view is not None
    env = Environment(view.document, view.by_name)
    elements: dict[int, Node] = {}
    root = _tree(view.root, elements)
    tree = get_node_tree(root)
    element_of = {id(elements[key]): element for element in root.iter() for key in [id(element)]}
    parser = _Oracle()
    compared = 0
    for key, contexts in view.by_definition.items():
        for constraint in metaschema.definitions[key].constraints:
            if "doc(" in constraint.target:
                continue
            theirs_target = parser.parse(constraint.target)
            guard = target_guard(constraint.target)
            for context in contexts:
                if isinstance(context, FlagRef):
                    item: Any = tree.get_element_node(element_of[id(context.owner)])
                    item = next(a for a in item.attributes if a.name == context.name)
                else:
                    item = tree.get_element_node(element_of[id(context)])
                ours = compile_metapath(constraint.target)(context, env)
                theirs = _theirs(theirs_target.evaluate(XPathContext(tree, item=item)), elements)
                assert _ours(ours) == theirs, (name, constraint.label, context)
                if constraint.test and not {"<", ">"} & set(constraint.test):
                    compared += _compare_test(constraint.test, ours, tree, element_of, env, parser)
                if guard is not None and isinstance(context, Node) and not guard(context):
                    assert not theirs, (name, constraint.label, "the guard skipped a context with targets")
                compared += 1
    assert compared > 10


# Hand-written expressions over every step, function and operator the evaluator has, each from
# several contexts: selected nodes must be the same nodes, atomic answers the same values.
HAND_WRITTEN = [
    "part", "part/part", "part//part", ".//part", "//part", "//(part|prop)", ".//(part|param)", "..",
    "part/part/..", "*", "part/*", "@*", "@id", "part/@id", "prop/@*", "(part|prop)", "part|prop|param",
    "param/@id | prop/@name", "(.)/prop", "(prop, part)/@id", ".", "part[@name='statement']",
    "part[@name=('statement','guidance')]", "part[@name=(@x, 'guidance')]", "part[2]", "part/part[3]",
    "part[1]/part[2]", "(part/part)[2]", "//part[@name='item'][2]", "prop[@value != 'G0-1']",
    "part[starts-with(@id, 'g0-1')]", "part[ends-with(@id, '_gdn')]", "part[contains(@id, 'smt')]",
    "part[not(@name='statement')]", "part[not(part)]", "part[@name='statement' or @name='x']",
    "part[@name='statement' and part]", "part[part]", "part[part/@id]", "part[exists(part)]",
    "part[empty(part)]", "part[count(part) = 3]", "part[count(part) != 3]", "part[count(part) > 2]",
    "part[count(part) >= 3]", "part[count(part) < 1]", "part[count(part) <= 0]", "part[string(@id) = 'g0-1_gdn']",
    "part[boolean(part)]", "part[true()]", "part[false()]", "part[@name = ../part/@name]",
    "part[has-oscal-namespace('http://csrc.nist.gov/ns/oscal')]", "part[has-oscal-namespace('urn:x')]",
    "part[has-oscal-namespace(('urn:x', 'http://csrc.nist.gov/ns/oscal'))]",
    "part[has-oscal-namespace(@name)]", "prop/@name[has-oscal-namespace('http://csrc.nist.gov/ns/oscal')]",
    "count(part)", "count(.//part)", "count(@*)", "string(@id)", "string(part[1]/@id)", "string(@nothing)",
    "exists(@id)", "empty(@nothing)", "not(part)", "boolean(@id)", "true()", "false()", "@id = 'g0-1'",
    "@id = ('g0-1', 'g0-2')", "part/@name = 'guidance'", "prop/@value != 'G0-1'", "count(prop) = 2",
    "count(part) > 1 and count(prop) < 3", "count(part) = 9 or exists(prop)", "starts-with(@id, 'g0')",
    "ends-with(@id, '1')", "contains(@id, '0-')", "contains('g0', @id)", "prop/@value = part/@name",
    "count(part) >= count(prop)", "count(part) <= 1", "'a' < 'b'", "2 > 10", "(1, 2)", "()", "count(())",
    # repeats a path must drop (one parent of many children, one node reached twice)
    "(part, part)/@id", "(prop, prop)/@name", "part/..", "(part, .)/..", "part/part/../..", "(part/part, part)/..",
    "(part, part)/part", "(part[1], part)[2]/@id", "(part | part/part)/@id", "part/(part | .)/@id",
    "part[part]/part[1]/../@id",
    # values a path yields from several contexts: all kept, repeats too
    "part/part/string(@name)", "count(part/part/string(@name))", "prop/string(@name)",
    # descendants by any name, or by a union that is not only names
    ".//*", "part//*", ".//(prop | *)", ".//(part | @id)", ".//(part | .)",
    # predicates of every shape: not a test, not a name, a flag of any name, from the root
    "prop[. and @name='label']", "prop[@name='x' or ..]", "part[not(.)]", "part[not('')]", "prop[@* = 'label']",
    "prop[@name='x' or //part]", "prop[@name = //prop/@name]", "(//part)[@name='item']",
    "part[not(//prop)]", "part[exists(//part)]", "prop[count(.)]", "prop[./count(.)]", "prop[./string(@name)]",
    "part/*/@*", "*/*", "//part/..",
]  # fmt: skip


def _catalog_view() -> Any:
    view = build_view(fresh("catalog"), load_metaschema("1.2.3"))
    assert view is not None
    return view


@pytest.mark.parametrize("expression", HAND_WRITTEN)
def test_hand_written_expressions_select_what_xpath_selects(expression: str) -> None:
    view = _catalog_view()
    env = Environment(view.document, view.by_name)
    elements: dict[int, Node] = {}
    root = _tree(view.root, elements)
    tree = get_node_tree(root)
    element_of = {id(elements[key]): element for element in root.iter() for key in [id(element)]}
    theirs_expression = _Oracle().parse(expression)
    contexts = [*view.by_name["control"], *view.by_name["group"], *view.by_name["part"][:2]]
    for context in contexts:
        ours = compile_metapath(expression)(context, env)
        theirs = theirs_expression.evaluate(XPathContext(tree, item=tree.get_element_node(element_of[id(context)])))
        if all(isinstance(item, (Node, FlagRef)) for item in ours) and (ours or isinstance(theirs, list)):
            assert _ours(ours) == _theirs(theirs, elements), (expression, context)
        else:
            values = theirs if isinstance(theirs, list) else [theirs]
            assert [atom(item) for item in ours] == [_plain(value) for value in values], (expression, context)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (bool, int, float)) else str(value)
