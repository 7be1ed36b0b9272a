"""Whether this server can evaluate a constraint as NIST wrote it, and if not, why.

Every expression of a constraint (target, test, key fields) must compile with `metapath_eval`, a
``matches`` datatype must be one `datatypes` knows and its regex must compile, and the kind must
be one `checking` runs. `unsupported` names the first reason it cannot; the coverage test asks it
of every constraint of every bundled module.
"""

from __future__ import annotations

import re

from oscal_mcp.oscal.metaschema.datatypes import DATATYPES
from oscal_mcp.oscal.metaschema.metapath_eval import compile_metapath
from oscal_mcp.oscal.metaschema.metapath_shortcuts import target_guard, value_getter
from oscal_mcp.oscal.metaschema.metapath_syntax import MetapathUnsupported
from oscal_mcp.oscal.metaschema.model import CONSTRAINT_KINDS, Constraint


def unsupported(constraint: Constraint) -> str | None:
    """None when `constraint` is evaluated in full; else why it cannot be."""
    if constraint.kind not in CONSTRAINT_KINDS:
        return f"constraint kind {constraint.kind!r} is not implemented"
    try:
        compile_metapath(constraint.target)
        target_guard(constraint.target)
        if constraint.test is not None:
            compile_metapath(constraint.test)
        for key_field in constraint.key_fields:
            value_getter(key_field.target)
    except MetapathUnsupported as exc:
        return f"Metapath: {exc}"
    if constraint.datatype is not None and constraint.datatype not in DATATYPES:
        return f"datatype {constraint.datatype!r} is not implemented"
    for pattern in (constraint.regex, *(k.pattern for k in constraint.key_fields)):
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                return f"regex {pattern!r} does not compile: {exc}"
    if constraint.kind in ("index", "index-has-key", "is-unique") and not constraint.key_fields:
        return "a key constraint without key-field"
    if constraint.kind == "expect" and constraint.test is None:
        return "an expect constraint without test"
    return None
