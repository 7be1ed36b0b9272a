"""NIST's own content against NIST's own constraints: the examples of usnistgov/oscal-content
(bundled as test data, see nist_examples/PROVENANCE.md) and the bundled SP 800-53 rev 5 content.

What NIST's content breaks is asserted here as found, not hidden by weakening a rule.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from oscal_mcp.content import read_bundled
from oscal_mcp.oscal.validation import Request, ValidationResult, validate

EXAMPLES = Path(__file__).parent / "nist_examples"
NIST = "nist/sp800-53-rev5/"


def _validate(data: bytes, source: str) -> ValidationResult:
    return validate(Request(data, "json", None, source, 100))


def test_the_examples_are_nists_files_unchanged() -> None:
    rows = re.findall(r"^\| (\S+\.json) \| \S+ \| ([0-9a-f]{64}) \|$", (EXAMPLES / "PROVENANCE.md").read_text(), re.M)
    assert len(rows) == 10
    for name, digest in rows:
        assert hashlib.sha256((EXAMPLES / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_nist_example_keeps_every_constraint(name: str) -> None:
    result = _validate((EXAMPLES / name).read_bytes(), name)
    assert result.valid, result.summary
    constraints = result.levels[3]
    assert (constraints.status, constraints.error_count, constraints.warning_count) == ("passed", 0, 0)


@pytest.mark.parametrize("profile", ["LOW", "MODERATE", "HIGH", "PRIVACY"])
def test_the_bundled_sp800_53_baselines_keep_every_constraint(profile: str) -> None:
    path = f"{NIST}NIST_SP-800-53_rev5_{profile}-baseline_profile.json"
    result = _validate(read_bundled(path), path)
    assert result.valid and result.levels[3].warning_count == 0


def test_the_bundled_sp800_53_catalog_breaks_one_rule_the_1_2_modules_added() -> None:
    """SP 800-53 rev 5.0.1 (OSCAL 1.0.0) gives 62 parameters a ``depends-on`` flag, which the 1.2
    modules deprecate with an ERROR-level expect (NIST's level, no ``level`` attribute); and three
    back-matter resources have neither an rlink nor base64 content (a WARNING-level cardinality).
    The catalog is checked with the newest bundled release, as the schema level does."""
    path = f"{NIST}NIST_SP-800-53_rev5_catalog.json"
    result = _validate(read_bundled(path), path)
    constraints = result.levels[3]
    assert [level.status for level in result.levels] == ["passed", "passed", "passed", "failed"]
    assert (constraints.error_count, constraints.warning_count) == (62, 3)
    assert [w.path for w in constraints.warnings] == [f"$.catalog.back-matter.resources[{n}]" for n in (72, 97, 99)]
    assert {w.constraint_id for w in constraints.warnings} == {"oscal-back-matter-resource-base64-rlink-cardinality"}
    assert {issue.constraint_id for issue in constraints.errors} == {"oscal-parameter-depends-on-deprecated"}
    assert constraints.errors[0].path == "$.catalog.groups[0].controls[3].controls[3].params[2]"
    assert constraints.errors[0].message == "depends-on is deprecated"
