"""Every field a definition, flag, child and constraint is read with, from one small module that
uses each construct once: the parsed model compared whole with what the module says."""

from __future__ import annotations

from defusedxml.ElementTree import fromstring

from oscal_mcp.oscal.metaschema.model import UNBOUNDED, AllowedValue, Child, Constraint, Definition, Flag, KeyField
from oscal_mcp.oscal.metaschema.parsing import ModuleSet, module_definitions, resolve_names

XMLNS = "http://csrc.nist.gov/ns/oscal/metaschema/1.0"
FILE = "oscal_demo_metaschema.xml"
MODULE = f"""<METASCHEMA xmlns="{XMLNS}">
<define-assembly name="party">
  <formal-name>Party  <b>of</b> record</formal-name>
  <description>Someone
     responsible.</description>
  <root-name>party-root</root-name>
  <json-key flag-ref="uuid"/>
  <flag ref="uuid" required="yes"/>
  <flag ref="kind"><use-name>type</use-name></flag>
  <define-flag name="local-flag" as-type="token" required="yes"><formal-name>Local</formal-name></define-flag>
  <model>
    <assembly ref="address" min-occurs="1" max-occurs="unbounded">
      <group-as name="addresses" in-json="ARRAY"/>
    </assembly>
    <choice><field ref="note" in-xml="UNWRAPPED"/></choice>
    <field ref="remark" max-occurs="3"><use-name>comment</use-name></field>
    <define-field name="inline" min-occurs="2" max-occurs="2"><json-value-key>text</json-value-key></define-field>
  </model>
  <constraint>
    <allowed-values id="party-kinds" level="WARNING" target="@kind" allow-other="yes" extensible="model">
      <enum value="person">A  <i>human</i></enum>
      <enum value="org" deprecated="1.1.0">Organisation</enum>
    </allowed-values>
    <matches target="email" regex="[^@]+@.+" datatype="email-address"><message>Not an  address</message></matches>
    <index name="party-index" target="address"><key-field target="@id" pattern="x-(.*)"/><key-field/></index>
    <has-cardinality target="address" min-occurs="1" max-occurs="2"/>
    <expect id="has-name" test="exists(name)"/>
    <not-a-constraint/>
  </constraint>
</define-assembly>
<define-assembly name="address"><use-name>addr</use-name></define-assembly>
<define-field name="note" as-type="markup-multiline"/>
<define-field name="remark"/>
<define-flag name="uuid" as-type="uuid"/>
<define-flag name="kind"><use-name>category</use-name></define-flag>
</METASCHEMA>"""


def parsed() -> dict[str, Definition]:
    root = fromstring(MODULE)
    definitions = module_definitions(root, FILE, ModuleSet.of({FILE: root}))
    return resolve_names({definition.key: definition for definition in definitions})


def constraint(kind: str, **fields: object) -> Constraint:
    return Constraint(kind=kind, owner="assembly:party", module=FILE, **fields)  # type: ignore[arg-type]


def test_a_definition_is_read_with_every_field_the_module_gives() -> None:
    party = parsed()["assembly:party"]
    assert (party.kind, party.name, party.module) == ("assembly", "party", FILE)
    assert (party.formal_name, party.description) == ("Party of record", "Someone responsible.")
    assert (party.root_name, party.use_name, party.as_type, party.json_key) == ("party-root", None, None, "uuid")
    assert party.json_value_key is None


def test_flags_by_reference_renamed_by_the_instance_or_defined_in_place() -> None:
    assert parsed()["assembly:party"].flags == (
        Flag(name="uuid", definition="flag:uuid", required=True),
        Flag(name="type", definition="flag:kind", required=False, renamed=True),
        Flag(name="local-flag", definition="assembly:party/@local-flag", required=True),
    )


def test_children_with_occurrences_groups_json_shape_and_names() -> None:
    assert parsed()["assembly:party"].children == (
        Child(
            kind="assembly", definition="assembly:address", xml_name="addr", json_name="addresses",
            min_occurs=1, max_occurs=UNBOUNDED, in_json="ARRAY", group_name="addresses",
        ),
        Child(kind="field", definition="field:note", xml_name="note", json_name="note", min_occurs=0, max_occurs=1,
              unwrapped=True),
        Child(kind="field", definition="field:remark", xml_name="comment", json_name="comment", min_occurs=0,
              max_occurs=3, use_name="comment"),
        Child(kind="field", definition="assembly:party/inline", xml_name="inline", json_name="inline", min_occurs=2,
              max_occurs=2, use_name="inline"),
    )  # fmt: skip


def test_definitions_made_in_place_are_definitions_of_their_own() -> None:
    definitions = parsed()
    inline = definitions["assembly:party/inline"]
    assert (inline.kind, inline.name, inline.json_value_key) == ("field", "inline", "text")
    local_flag = definitions["assembly:party/@local-flag"]
    assert (local_flag.kind, local_flag.as_type, local_flag.formal_name) == ("flag", "token", "Local")
    assert (definitions["field:note"].kind, definitions["field:note"].as_type) == ("field", "markup-multiline")
    assert definitions["flag:uuid"].kind == "flag"
    assert definitions["assembly:address"].use_name == "addr"
    assert list(definitions) == [
        "assembly:party", "assembly:party/@local-flag", "assembly:party/inline", "assembly:address",
        "field:note", "field:remark", "flag:uuid", "flag:kind",
    ]  # fmt: skip


def test_a_flag_takes_its_definitions_use_name_unless_the_instance_renamed_it() -> None:
    root = fromstring(MODULE.replace('<flag ref="kind"><use-name>type</use-name></flag>', '<flag ref="kind"/>'))
    definitions = module_definitions(root, FILE, ModuleSet.of({FILE: root}))
    party = resolve_names({definition.key: definition for definition in definitions})["assembly:party"]
    assert party.flags[1] == Flag(name="category", definition="flag:kind", required=False)


def test_every_constraint_kind_is_read_with_its_fields_and_defaults() -> None:
    assert parsed()["assembly:party"].constraints == (
        constraint(
            "allowed-values", id="party-kinds", level="WARNING", target="@kind", allow_other=True, extensible="model",
            values=(
                AllowedValue(value="person", description="A human"),
                AllowedValue(value="org", description="Organisation", deprecated="1.1.0"),
            ),
        ),
        constraint("matches", id=None, level="ERROR", target="email", regex="[^@]+@.+", datatype="email-address",
                   message="Not an address", extensible="external"),
        constraint("index", id=None, level="ERROR", target="address", name="party-index", extensible="external",
                   key_fields=(KeyField(target="@id", pattern="x-(.*)"), KeyField(target="."))),
        constraint("has-cardinality", id=None, level="ERROR", target="address", min_occurs=1, max_occurs=2,
                   extensible="external"),
        constraint("expect", id="has-name", level="ERROR", target=".", test="exists(name)", extensible="external"),
    )  # fmt: skip
