"""Reading the modules: entities only from bundled files, never a DTD left for a parser."""

from __future__ import annotations

import pytest
from defusedxml import DTDForbidden
from defusedxml.ElementTree import fromstring

from oscal_mcp.oscal.metaschema.reading import MetaschemaError, expand_entities, read_module

HEADER = '<?xml version="1.0"?>\n<!DOCTYPE METASCHEMA [\n  <!ENTITY list SYSTEM "{path}">\n]>\n'
BODY = '<METASCHEMA xmlns="http://csrc.nist.gov/ns/oscal/metaschema/1.0">&list;</METASCHEMA>'


def test_a_shared_constraint_file_is_put_in_place_of_its_entity() -> None:
    text = HEADER.format(path="shared-constraints/allowed-values-component_component_software.ent") + BODY
    expanded = expand_entities("1.2.3", "oscal_x_metaschema.xml", text)
    assert "<!DOCTYPE" not in expanded and 'value="software-identifier"' in expanded
    assert fromstring(expanded, forbid_dtd=True) is not None


@pytest.mark.parametrize(
    "path", ["../../schemas/1.2.3/oscal_catalog_schema.json", "/etc/passwd", "http://example.com/x.ent"]
)
def test_an_entity_outside_the_bundled_modules_is_refused(path: str) -> None:
    with pytest.raises(MetaschemaError, match="outside the bundled modules"):
        expand_entities("1.2.3", "oscal_x_metaschema.xml", HEADER.format(path=path) + BODY)


def test_an_entity_file_not_in_the_manifest_is_refused() -> None:
    from oscal_mcp.content import BundledContentError

    with pytest.raises(BundledContentError, match="not listed"):
        expand_entities("1.2.3", "oscal_x_metaschema.xml", HEADER.format(path="shared-constraints/nope.ent") + BODY)


def test_an_undeclared_entity_is_an_error() -> None:
    with pytest.raises(MetaschemaError, match="not declared"):
        expand_entities("1.2.3", "oscal_x_metaschema.xml", BODY.replace("&list;", "&other;"))


def test_a_dtd_never_reaches_the_parser() -> None:
    with pytest.raises(DTDForbidden):
        fromstring('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', forbid_dtd=True)


def test_every_bundled_module_reads() -> None:
    root = read_module("1.2.3", "oscal_component_metaschema.xml")
    assert root.tag.endswith("METASCHEMA")
