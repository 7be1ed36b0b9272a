"""Reading the bundled Metaschema modules safely.

NIST's modules pull their shared allowed-values lists in through external entities
(``<!ENTITY name SYSTEM "shared-constraints/x.ent">`` then ``&name;``). No XML parser here ever
resolves an entity: the declarations are read from the internal subset, each one must name a
file bundled beside the module (no ``..``, no URL, checked against the content manifest through
`read_bundled`), its text is put in place of the reference, and the document is then parsed with
defusedxml with DTDs forbidden, so no entity, external or internal, is left for a parser to expand.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from posixpath import normpath

from defusedxml.ElementTree import fromstring

from oscal_mcp.content import read_bundled

METASCHEMA_DIR = "metaschema/"
NS = "{http://csrc.nist.gov/ns/oscal/metaschema/1.0}"
_DOCTYPE = re.compile(r"<!DOCTYPE\s+METASCHEMA\s*\[(?P<subset>.*?)\]\s*>", re.DOTALL)
_ENTITY = re.compile(r"<!ENTITY\s+(?P<name>[A-Za-z0-9_.-]+)\s+SYSTEM\s+\"(?P<path>[^\"]+)\"\s*>")
_REFERENCE = re.compile(r"&(?P<name>[A-Za-z][A-Za-z0-9_.-]*);")
_XML_ESCAPES = frozenset({"amp", "lt", "gt", "quot", "apos"})


class MetaschemaError(Exception):
    """A bundled Metaschema module cannot be read as expected."""


def module_path(version: str, file_name: str) -> str:
    return f"{METASCHEMA_DIR}{version}/{file_name}"


def read_module(version: str, file_name: str) -> ET.Element:
    """The root element of one bundled module, its entities replaced by their bundled text."""
    text = read_bundled(module_path(version, file_name)).decode("utf-8")
    root: ET.Element = fromstring(expand_entities(version, file_name, text), forbid_dtd=True)
    return root


def expand_entities(version: str, file_name: str, text: str) -> str:
    match = _DOCTYPE.search(text)
    subset = match["subset"] if match else ""
    declared = {m["name"]: _entity_file(version, file_name, m["path"]) for m in _ENTITY.finditer(subset)}
    body = text[: match.start()] + text[match.end() :] if match else text

    def replace(reference: re.Match[str]) -> str:
        name = reference["name"]
        if name in _XML_ESCAPES:
            return reference[0]
        if name not in declared:
            raise MetaschemaError(f"{file_name}: entity &{name}; is not declared")
        return _strip_declaration(read_bundled(declared[name]).decode("utf-8"))

    return _REFERENCE.sub(replace, body)


def _entity_file(version: str, file_name: str, relative: str) -> str:
    base = file_name.rpartition("/")[0]
    path = normpath(f"{base}/{relative}" if base else relative)
    if "://" in relative or path.startswith(("..", "/")):
        raise MetaschemaError(f"{file_name}: entity file {relative!r} is outside the bundled modules")
    return module_path(version, path)


def _strip_declaration(text: str) -> str:
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
