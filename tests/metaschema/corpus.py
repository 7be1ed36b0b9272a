"""Documents that keep NIST's Metaschema constraints, one per model, and a scalable SSP.

Each passes NIST's JSON Schema and every constraint; a test breaks one rule at a time with a
small edit (`tests/metaschema/test_constraint_corpus.py`).
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from tests.tools.documents import catalog, component_definition, mapping_collection, poam

VERSION = "1.2.3"


def uid(seed: int) -> str:
    return str(uuid.UUID(int=seed, version=4))


def metadata(title: str = "Corpus document") -> dict[str, Any]:
    return {
        "title": title,
        "last-modified": "2026-01-05T00:00:00+00:00",
        "version": "1.0",
        "oscal-version": VERSION,
        "roles": [{"id": "admin", "title": "Administrator"}, {"id": "maintainer", "title": "Maintainer"}],
        "parties": [
            {"uuid": uid(901), "type": "organization", "name": "Example Agency"},
            {"uuid": uid(902), "type": "person", "name": "Pat Admin"},
        ],
        "responsible-parties": [{"role-id": "admin", "party-uuids": [uid(902)]}],
    }


def ssp(requirements: int = 3) -> dict[str, Any]:
    """A valid SSP with `requirements` implemented requirements, each on both components."""
    this, server = uid(1001), uid(1002)
    return {
        "system-security-plan": {
            "uuid": uid(1000),
            "metadata": metadata("Corpus SSP"),
            "import-profile": {"href": "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"},
            "system-characteristics": {
                "system-ids": [{"identifier-type": "https://ietf.org/rfc/rfc4122", "id": uid(1003)}],
                "system-name": "Corpus System",
                "description": "A system described for the constraint corpus.",
                "props": [{"name": "cloud-service-model", "value": "saas"}],
                "security-sensitivity-level": "fips-199-moderate",
                "system-information": {
                    "information-types": [
                        {
                            "uuid": uid(1004),
                            "title": "Personnel records",
                            "description": "Records about staff.",
                            "categorizations": [
                                {
                                    "system": "https://doi.org/10.6028/NIST.SP.800-60v2r1",
                                    "information-type-ids": ["C.2.8.5"],
                                }
                            ],
                            "confidentiality-impact": {"base": "fips-199-moderate"},
                            "integrity-impact": {"base": "fips-199-moderate"},
                            "availability-impact": {"base": "fips-199-low"},
                        }
                    ]
                },
                "security-impact-level": {
                    "security-objective-confidentiality": "fips-199-moderate",
                    "security-objective-integrity": "fips-199-moderate",
                    "security-objective-availability": "fips-199-low",
                },
                "status": {"state": "operational"},
                "authorization-boundary": {"description": "Everything in the data center."},
            },
            "system-implementation": {
                "users": [{"uuid": uid(1005), "title": "Operator", "role-ids": ["admin"]}],
                "components": [
                    {
                        "uuid": this,
                        "type": "this-system",
                        "title": "This system",
                        "description": "The whole system.",
                        "status": {"state": "operational"},
                    },
                    {
                        "uuid": server,
                        "type": "software",
                        "title": "Web server",
                        "description": "Serves the application.",
                        "props": [{"name": "version", "value": "2.4"}],
                        "status": {"state": "operational"},
                        "responsible-roles": [{"role-id": "maintainer", "party-uuids": [uid(902)]}],
                    },
                ],
            },
            "control-implementation": {
                "description": "How the controls are implemented.",
                "implemented-requirements": [_requirement(n, this, server) for n in range(requirements)],
            },
        }
    }


_CONTROLS = ["ac-1", "ac-2", "ac-3", "ac-5", "ac-6", "ac-7", "ac-8", "ac-11", "ac-12", "ac-14", "ac-17", "ac-18"]


def _requirement(n: int, this: str, server: str) -> dict[str, Any]:
    control_id = _CONTROLS[n % len(_CONTROLS)] if n < len(_CONTROLS) else f"ac-2.{n % 5 + 1}"
    return {
        "uuid": uid(2000 + n),
        "control-id": control_id,
        "props": [{"name": "control-origination", "value": "system-specific"}],
        "by-components": [
            {
                "component-uuid": component,
                "uuid": uid(3000 + 2 * n + k),
                "description": f"The {label} implements {control_id} by configuration, as documented in the runbook.",
                "implementation-status": {"state": "implemented"},
            }
            for k, (component, label) in enumerate([(this, "system"), (server, "web server")])
        ],
    }


def ssp_of_size(target_bytes: int) -> dict[str, Any]:
    """An SSP whose JSON is about `target_bytes` long (the bench's 22 KB document)."""
    count = 1
    while len(json.dumps(ssp(count))) < target_bytes:
        count += 1
    return ssp(count)


def profile() -> dict[str, Any]:
    return {
        "profile": {
            "uuid": uid(4000),
            "metadata": metadata("Corpus profile"),
            "imports": [{"href": "#" + uid(4001), "include-controls": [{"with-ids": ["ac-1", "ac-2"]}]}],
            "merge": {"as-is": True},
            "back-matter": {"resources": [{"uuid": uid(4001), "rlinks": [{"href": "catalog.json"}]}]},
        }
    }


def assessment_plan() -> dict[str, Any]:
    return {
        "assessment-plan": {
            "uuid": uid(5000),
            "metadata": metadata("Corpus assessment plan"),
            "import-ssp": {"href": "ssp.json"},
            "reviewed-controls": {"control-selections": [{"include-all": {}}]},
            "assessment-subjects": [{"type": "component", "include-all": {}}],
            "tasks": [{"uuid": uid(5001), "type": "action", "title": "Interview the administrator"}],
        }
    }


def assessment_results() -> dict[str, Any]:
    return {
        "assessment-results": {
            "uuid": uid(6000),
            "metadata": metadata("Corpus assessment results"),
            "import-ap": {"href": "ap.json"},
            "results": [
                {
                    "uuid": uid(6001),
                    "title": "Annual assessment",
                    "description": "The first annual assessment.",
                    "start": "2026-01-05T00:00:00+00:00",
                    "reviewed-controls": {"control-selections": [{"include-all": {}}]},
                }
            ],
        }
    }


def corpus_catalog() -> dict[str, Any]:
    doc = catalog(groups=1, controls_per_group=3)
    doc["catalog"]["metadata"] = metadata("Corpus catalog")
    return doc


def corpus_component_definition() -> dict[str, Any]:
    doc = component_definition()
    (inner,) = doc.values()
    inner["metadata"] = metadata("Corpus component definition")
    return doc


def corpus_poam() -> dict[str, Any]:
    doc = poam()
    doc["plan-of-action-and-milestones"]["metadata"] = metadata("Corpus POA&M")
    return doc


def corpus_mapping() -> dict[str, Any]:
    doc = mapping_collection()
    doc["mapping-collection"]["metadata"] = metadata("Corpus mapping")
    return doc


ALL: dict[str, Any] = {
    "catalog": corpus_catalog,
    "profile": profile,
    "component-definition": corpus_component_definition,
    "system-security-plan": ssp,
    "assessment-plan": assessment_plan,
    "assessment-results": assessment_results,
    "plan-of-action-and-milestones": corpus_poam,
    "mapping-collection": corpus_mapping,
}


def fresh(model: str) -> dict[str, Any]:
    return copy.deepcopy(ALL[model]())
