"""Parsing Metaschema modules: which module a reference resolves to when a name is defined in
several (Definition scope: own module, then imports, ``scope="local"`` seen only at home), and the
fields a definition is read with. Small modules are written here so each rule is seen alone."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from defusedxml.ElementTree import fromstring

from oscal_mcp.oscal.metaschema.parsing import ModuleSet, module_definitions

XMLNS = "http://csrc.nist.gov/ns/oscal/metaschema/1.0"


def _module(imports: list[str], body: str) -> ET.Element:
    links = "".join(f'<import href="{href}"/>' for href in imports)
    root: ET.Element = fromstring(f'<METASCHEMA xmlns="{XMLNS}">{links}{body}</METASCHEMA>')
    return root


A, B, C, D, E, G, H, K = (f"oscal_{m}_metaschema.xml" for m in "abcdeghk")
ROOTS = {
    A: _module([B], '<define-assembly name="x"/><define-field name="y" scope="local"/>'),
    B: _module([A], '<define-assembly name="x"/><define-field name="y"/><define-flag/>'),
    C: _module([B], '<define-assembly name="z"/><define-flag scope="local"/>'),
    D: _module([A], ""),
    E: _module([], "<import/>"),
    G: _module([H], ""),
    H: _module([G], ""),
    K: _module([E, E, B], ""),
}


def test_a_module_set_records_who_defines_what_imports_and_local_scope() -> None:
    modules = ModuleSet.of(ROOTS)
    assert modules.defined_in == {
        ("assembly", "x"): [A, B],
        ("field", "y"): [A, B],
        ("flag", ""): [B, C],
        ("assembly", "z"): [C],
    }
    assert modules.imports == {A: [B], B: [A], C: [B], D: [A], E: [""], G: [H], H: [G], K: [E, E, B]}
    assert modules.local == {("field", "y", A), ("flag", "", C)}


def test_a_name_defined_once_keeps_its_plain_key() -> None:
    modules = ModuleSet.of(ROOTS)
    assert modules.key("assembly", "z", A) == "assembly:z"
    assert modules.key("assembly", "nowhere", A) == "assembly:nowhere"
    assert modules.defined_key("assembly", "z", C) == "assembly:z"


def test_a_name_defined_twice_resolves_home_first_then_through_imports() -> None:
    modules = ModuleSet.of(ROOTS)
    assert modules.key("assembly", "x", A) == "assembly:x@a"
    assert modules.key("assembly", "x", B) == "assembly:x@b"
    assert modules.key("assembly", "x", C) == "assembly:x@b"
    assert modules.key("assembly", "x", D) == "assembly:x@a"
    assert modules.key("assembly", "x", K) == "assembly:x@b"  # past a module imported twice


def test_a_local_definition_is_seen_only_in_its_own_module() -> None:
    modules = ModuleSet.of(ROOTS)
    assert modules.key("field", "y", A) == "field:y@a"
    assert modules.key("field", "y", D) == "field:y@b"


def test_an_unreachable_definition_falls_back_to_the_first_module_even_through_an_import_cycle() -> None:
    modules = ModuleSet.of(ROOTS)
    assert modules.key("assembly", "x", E) == "assembly:x@a"
    assert modules.key("assembly", "x", G) == "assembly:x@a"


def test_a_definition_is_read_with_its_name_type_description_and_json_key() -> None:
    root = _module(
        [],
        '<define-field name="y" as-type="token"><description>A  <b>short</b> one.</description>'
        '<json-key flag-ref="id"/></define-field><define-assembly/>',
    )
    field, nameless = module_definitions(root, E, ModuleSet.of({E: root}))
    assert (field.key, field.name, field.as_type) == ("field:y", "y", "token")
    assert (field.description, field.json_key) == ("A short one.", "id")
    assert (nameless.key, nameless.name, nameless.as_type, nameless.json_key) == ("assembly:", "", None, None)
