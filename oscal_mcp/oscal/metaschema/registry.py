"""The parsed Metaschema of each bundled OSCAL release, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from oscal_mcp.content import bundled_paths
from oscal_mcp.oscal.metaschema.model import Constraint, Definition
from oscal_mcp.oscal.metaschema.parsing import ModuleSet, definition_key, module_definitions, resolve_names
from oscal_mcp.oscal.metaschema.reading import METASCHEMA_DIR, MetaschemaError, read_module


@dataclass(frozen=True)
class Metaschema:
    """All definitions of one release by key, and its root assemblies by root name."""

    version: str
    definitions: dict[str, Definition]
    roots: dict[str, Definition]

    def definition(self, key: str) -> Definition:
        try:
            return self.definitions[key]
        except KeyError:
            raise MetaschemaError(f"OSCAL {self.version}: no Metaschema definition {key!r}") from None

    def assembly(self, name: str) -> Definition | None:
        return self.definitions.get(definition_key("assembly", name))

    def constraints(self) -> list[Constraint]:
        return [c for d in self.definitions.values() for c in d.constraints]

    def named(self, name: str) -> list[Definition]:
        """Every definition called `name`: global ones first, then local ones."""
        found = [d for d in self.definitions.values() if d.name == name]
        return sorted(found, key=lambda d: (not d.is_global, d.key))


def metaschema_versions() -> tuple[str, ...]:
    found = {path[len(METASCHEMA_DIR) :].split("/", 1)[0] for path in bundled_paths(METASCHEMA_DIR)}
    return tuple(sorted(found))


def module_files(version: str) -> list[str]:
    prefix = f"{METASCHEMA_DIR}{version}/"
    return sorted(
        path[len(prefix) :]
        for path in bundled_paths(prefix)
        if path.endswith("_metaschema.xml") and "/" not in path[len(prefix) :]
    )


@cache
def load_metaschema(version: str) -> Metaschema:
    """Every module of `version` parsed; a global name defined twice keeps its first definition."""
    files = module_files(version)
    if not files:
        raise MetaschemaError(f"no Metaschema modules are bundled for OSCAL {version}")
    roots = {file_name: read_module(version, file_name) for file_name in files}
    modules = ModuleSet.of(roots)
    definitions: dict[str, Definition] = {}
    for file_name, root in roots.items():
        for definition in module_definitions(root, file_name, modules):
            definitions.setdefault(definition.key, definition)
    definitions = resolve_names(definitions)
    return Metaschema(
        version=version,
        definitions=definitions,
        roots={d.root_name: d for d in definitions.values() if d.root_name},
    )
