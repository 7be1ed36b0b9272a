"""The module registry: which releases and module files are bundled, and looking definitions up."""

from __future__ import annotations

import pytest

from oscal_mcp.oscal.metaschema import registry
from oscal_mcp.oscal.metaschema.reading import MetaschemaError
from oscal_mcp.oscal.metaschema.registry import load_metaschema, module_files


def test_the_module_files_of_a_release_are_its_top_level_metaschema_files() -> None:
    files = module_files("1.2.3")
    assert len(files) == 14 and files == sorted(files)
    assert {"oscal_catalog_metaschema.xml", "oscal_ssp_metaschema.xml", "oscal_metadata_metaschema.xml"} <= set(files)
    assert all(name.endswith("_metaschema.xml") and "/" not in name for name in files)
    assert module_files("9.9.9") == []


def test_an_unknown_definition_key_names_the_release_and_the_key() -> None:
    metaschema = load_metaschema("1.2.3")
    with pytest.raises(MetaschemaError) as raised:
        metaschema.definition("assembly:no-such")
    assert str(raised.value) == "OSCAL 1.2.3: no Metaschema definition 'assembly:no-such'"
    assert metaschema.definition("assembly:catalog").name == "catalog"


def test_an_assembly_is_found_by_its_name_only_among_assemblies() -> None:
    metaschema = load_metaschema("1.2.3")
    catalog = metaschema.assembly("catalog")
    assert catalog is not None and catalog.key == "assembly:catalog"
    assert metaschema.assembly("risk-status") is None  # a field, not an assembly


def test_definitions_named_alike_list_global_ones_first() -> None:
    found = load_metaschema("1.2.3").named("origin")
    assert [d.key for d in found] == ["assembly:origin", "assembly:poam-item/origin"]


def test_module_files_skip_other_files_and_sub_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    listing = [
        "metaschema/7.0.0/oscal_catalog_metaschema.xml",
        "metaschema/7.0.0/README.md",
        "metaschema/7.0.0/shared-constraints/allowed-values.ent",
        "metaschema/7.0.0/old/oscal_profile_metaschema.xml",
    ]
    monkeypatch.setattr(registry, "bundled_paths", lambda prefix: [p for p in listing if p.startswith(prefix)])
    assert module_files("7.0.0") == ["oscal_catalog_metaschema.xml"]
