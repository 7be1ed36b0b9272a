"""NIST's Metaschema modules -> `Definition` objects (see `model.py`).

Every module of a release is read once; global definitions are keyed ``<kind>:<name>`` (assembly,
field and flag names are separate namespaces in Metaschema), local (inline) ones
``<parent key>/<name>``. JSON names come from the modules: a repeating instance is named by its
``group-as``, a single one by its ``use-name`` or definition name, a field's value by its
``json-value-key``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace

from oscal_mcp.oscal.metaschema.model import (
    CONSTRAINT_KINDS,
    UNBOUNDED,
    AllowedValue,
    Child,
    Constraint,
    Definition,
    DefinitionKind,
    Flag,
    KeyField,
)
from oscal_mcp.oscal.metaschema.reading import NS

_DEFINE = {f"{NS}define-assembly": "assembly", f"{NS}define-field": "field", f"{NS}define-flag": "flag"}
_REFERENCE = {f"{NS}assembly": "assembly", f"{NS}field": "field"}


def definition_key(kind: str, name: str) -> str:
    return f"{kind}:{name}"


@dataclass(frozen=True)
class ModuleSet:
    """Which modules define each top-level name, and what each module imports: what a reference
    resolves to (Metaschema specification, "Definition scope": a module sees its own definitions,
    then those of the modules it imports; a ``scope="local"`` one only its own module sees)."""

    defined_in: dict[tuple[str, str], list[str]]
    imports: dict[str, list[str]]
    local: set[tuple[str, str, str]]

    @classmethod
    def of(cls, roots: dict[str, ET.Element]) -> ModuleSet:
        defined_in: dict[tuple[str, str], list[str]] = {}
        local: set[tuple[str, str, str]] = set()
        for file_name, root in roots.items():
            for element in root:
                kind = _DEFINE.get(element.tag)
                if kind is not None:
                    defined_in.setdefault((kind, element.get("name", "")), []).append(file_name)
                    if element.get("scope") == "local":
                        local.add((kind, element.get("name", ""), file_name))
        imports = {f: [i.get("href", "") for i in root.iter(f"{NS}import")] for f, root in roots.items()}
        return cls(defined_in, imports, local)

    def key(self, kind: str, name: str, module: str) -> str:
        """The key a reference to `name` from `module` resolves to."""
        owners = self.defined_in.get((kind, name), [])
        if len(owners) < 2:
            return definition_key(kind, name)
        return self.defined_key(kind, name, self._owner(kind, name, module) or owners[0])

    def defined_key(self, kind: str, name: str, module: str) -> str:
        """The key of the top-level definition of `name` in `module`."""
        if len(self.defined_in.get((kind, name), [])) < 2:
            return definition_key(kind, name)
        return f"{definition_key(kind, name)}@{module.removeprefix('oscal_').removesuffix('_metaschema.xml')}"

    def _owner(self, kind: str, name: str, module: str) -> str | None:
        pending, seen = [module], set()
        while pending:
            current = pending.pop(0)
            if current in seen:
                continue
            seen.add(current)
            if current in self.defined_in.get((kind, name), []) and (
                current == module or (kind, name, current) not in self.local
            ):
                return current
            pending.extend(self.imports.get(current, []))
        return None


@dataclass(frozen=True)
class _Module:
    file_name: str
    modules: ModuleSet

    def key(self, kind: str, name: str) -> str:
        return self.modules.key(kind, name, self.file_name)


def module_definitions(root: ET.Element, file_name: str, modules: ModuleSet) -> Iterator[Definition]:
    """Every definition of one module, global and local."""
    module = _Module(file_name, modules)
    for element in root:
        kind = _DEFINE.get(element.tag)
        if kind is not None:
            name = element.get("name", "")
            yield from _definition(element, kind, modules.defined_key(kind, name, file_name), module)


def _definition(element: ET.Element, kind: str, key: str, module: _Module) -> Iterator[Definition]:
    locals_: list[Definition] = []
    flags = tuple(_flags(element, key, module, locals_))
    children = tuple(_children(element.find(f"{NS}model"), key, module, locals_))
    json_key = element.find(f"{NS}json-key")
    yield Definition(
        key=key,
        kind=_kind(kind),
        name=element.get("name", ""),
        module=module.file_name,
        formal_name=_text(element.find(f"{NS}formal-name")),
        description=_text(element.find(f"{NS}description")),
        as_type=element.get("as-type"),
        use_name=_child_text(element, "use-name"),
        root_name=_child_text(element, "root-name"),
        flags=flags,
        children=children,
        json_key=json_key.get("flag-ref") if json_key is not None else None,
        json_value_key=_child_text(element, "json-value-key"),
        constraints=tuple(_constraints(element.find(f"{NS}constraint"), key, module.file_name)),
    )
    yield from locals_


def _kind(kind: str) -> DefinitionKind:
    return "assembly" if kind == "assembly" else "field" if kind == "field" else "flag"


def _flags(element: ET.Element, owner: str, module: _Module, locals_: list[Definition]) -> Iterator[Flag]:
    for item in element:
        if item.tag == f"{NS}flag":
            name = item.get("ref", "")
            use_name = _child_text(item, "use-name")
            flag = Flag(
                name=use_name or name, definition=module.key("flag", name), required=item.get("required") == "yes"
            )
            yield replace(flag, renamed=True) if use_name else flag
        elif item.tag == f"{NS}define-flag":
            name = item.get("name", "")
            key = f"{owner}/@{name}"
            locals_.extend(_definition(item, "flag", key, module))
            yield Flag(name=name, definition=key, required=item.get("required") == "yes")


def _children(model: ET.Element | None, owner: str, module: _Module, locals_: list[Definition]) -> Iterator[Child]:
    if model is None:
        return
    for item in model:
        if item.tag == f"{NS}choice":
            yield from _children(item, owner, module, locals_)
        elif item.tag in _REFERENCE:
            kind = _REFERENCE[item.tag]
            name = item.get("ref", "")
            yield _child(item, kind, module.key(kind, name), name)
        elif item.tag in _DEFINE:
            kind = _DEFINE[item.tag]
            name = item.get("name", "")
            key = f"{owner}/{name}"
            locals_.extend(_definition(item, kind, key, module))
            yield _child(item, kind, key, name)


def _child(item: ET.Element, kind: str, definition: str, name: str) -> Child:
    """An instance; a referenced definition's own use name is applied by `resolve_names`."""
    use_name = _child_text(item, "use-name")
    xml_name = use_name or name
    group = item.find(f"{NS}group-as")
    max_text = item.get("max-occurs", "1")
    return Child(
        kind="assembly" if kind == "assembly" else "field",
        definition=definition,
        xml_name=xml_name,
        json_name=group.get("name", xml_name) if group is not None else xml_name,
        min_occurs=int(item.get("min-occurs", "0")),
        max_occurs=UNBOUNDED if max_text == "unbounded" else int(max_text),
        in_json=group.get("in-json", "SINGLETON_OR_ARRAY") if group is not None else "SINGLETON_OR_ARRAY",
        unwrapped=item.get("in-xml") == "UNWRAPPED",
        use_name=use_name if item.tag in _REFERENCE else use_name or name,
        group_name=group.get("name") if group is not None else None,
    )


def resolve_names(definitions: dict[str, Definition]) -> dict[str, Definition]:
    """Instances named as the Metaschema rules say: the instance's use name, else its definition's
    use name, else the definition's name; in JSON a group-as name where there is one."""
    resolved: dict[str, Definition] = {}
    for key, definition in definitions.items():
        children = tuple(_named(child, definitions.get(child.definition)) for child in definition.children)
        flags = tuple(_flag_named(flag, definitions.get(flag.definition)) for flag in definition.flags)
        resolved[key] = replace(definition, children=children, flags=flags)
    return resolved


def _named(child: Child, definition: Definition | None) -> Child:
    if child.use_name or definition is None:
        return child
    xml_name = definition.use_name or definition.name
    return replace(child, xml_name=xml_name, json_name=child.group_name or xml_name)


def _flag_named(flag: Flag, definition: Definition | None) -> Flag:
    if definition is None or not definition.use_name or flag.renamed:
        return flag
    return replace(flag, name=definition.use_name)


def _constraints(block: ET.Element | None, owner: str, module: str) -> Iterator[Constraint]:
    if block is None:
        return
    for item in block:
        kind = item.tag.removeprefix(NS)
        if kind in CONSTRAINT_KINDS:
            yield _constraint(item, kind, owner, module)


def _constraint(item: ET.Element, kind: str, owner: str, module: str) -> Constraint:
    return Constraint(
        kind=kind,  # type: ignore[arg-type]  # checked against CONSTRAINT_KINDS by the caller
        id=item.get("id"),
        level=item.get("level", "ERROR"),
        target=item.get("target", "."),
        owner=owner,
        module=module,
        message=_child_text(item, "message"),
        values=tuple(
            AllowedValue(value=enum.get("value", ""), description=_text(enum), deprecated=enum.get("deprecated"))
            for enum in item.iter(f"{NS}enum")
        ),
        allow_other=item.get("allow-other") == "yes",
        extensible=item.get("extensible", "external"),
        regex=item.get("regex"),
        datatype=item.get("datatype"),
        name=item.get("name"),
        key_fields=tuple(
            KeyField(target=key.get("target", "."), pattern=key.get("pattern")) for key in item.iter(f"{NS}key-field")
        ),
        min_occurs=_int(item.get("min-occurs")),
        max_occurs=_int(item.get("max-occurs")),
        test=item.get("test"),
    )


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def _child_text(element: ET.Element, name: str) -> str | None:
    found = element.find(f"{NS}{name}")
    return _text(found) or None if found is not None else None


def _text(element: ET.Element | None) -> str:
    """The text of a (markup) element, tags dropped and white space collapsed."""
    return " ".join("".join(element.itertext()).split()) if element is not None else ""
