"""Small valid OSCAL documents of every model for the document-store tests, each carrying one made-up
word (MARKERS) that appears nowhere else, so a search for it has exactly one expected answer."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

METADATA = {"last-modified": "2025-11-26T00:00:00+00:00", "version": "1.0.0", "oscal-version": "1.2.1"}
MARKERS = {
    "component-definition": "pangolinvault",
    "system-security-plan": "zephyrgate",
    "assessment-plan": "quokkaprobe",
    "assessment-results": "marmotleak",
    "plan-of-action-and-milestones": "narwhalfix",
    "mapping-collection": "ocelotmap",
    "profile": "capybara",
}
SSP_COMPONENT_UUIDS = (str(uuid.UUID(int=501, version=4)), str(uuid.UUID(int=502, version=4)))
BUNDLED_CATALOG_HREF = "NIST_SP-800-53_rev5_catalog.json"


def u(seed: int) -> str:
    return str(uuid.UUID(int=seed, version=4))


def metadata(title: str) -> dict[str, Any]:
    return {"title": title, **METADATA}


def ssp() -> dict[str, Any]:
    this_system, gateway = SSP_COMPONENT_UUIDS
    return {
        "system-security-plan": {
            "uuid": u(500),
            "metadata": metadata("Test system security plan"),
            "import-profile": {"href": "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"},
            "system-characteristics": {
                "system-ids": [{"identifier-type": "https://ietf.org/rfc/rfc4122", "id": u(510)}],
                "system-name": "Test system",
                "description": "A system for the tests.",
                "security-sensitivity-level": "moderate",
                "system-information": {
                    "information-types": [
                        {
                            "title": "Test information",
                            "description": "Records.",
                            "confidentiality-impact": {"base": "fips-199-moderate"},
                            "integrity-impact": {"base": "fips-199-moderate"},
                            "availability-impact": {"base": "fips-199-moderate"},
                        }
                    ]
                },
                "status": {"state": "operational"},
                "authorization-boundary": {"description": "Everything in the test."},
            },
            "system-implementation": {
                "users": [{"uuid": u(520), "title": "Administrator"}],
                "components": [
                    {
                        "uuid": this_system,
                        "type": "this-system",
                        "title": "This system",
                        "description": "The whole test system.",
                        "status": {"state": "operational"},
                    },
                    {
                        "uuid": gateway,
                        "type": "service",
                        "title": "API gateway",
                        "description": f"The {MARKERS['system-security-plan']} gateway in front of every API.",
                        "props": [{"name": "vendor-name", "value": "Example Corp"}],
                        "status": {"state": "operational"},
                    },
                ],
            },
            "control-implementation": {
                "description": "How the test system implements its controls.",
                "implemented-requirements": [
                    {
                        "uuid": u(530),
                        "control-id": "ac-2",
                        "by-components": [
                            {
                                "component-uuid": gateway,
                                "uuid": u(531),
                                "description": "The gateway checks every account against the directory.",
                            }
                        ],
                    }
                ],
            },
        }
    }


def assessment_plan() -> dict[str, Any]:
    return {
        "assessment-plan": {
            "uuid": u(600),
            "metadata": metadata("Test assessment plan"),
            "import-ssp": {"href": "ssp.json"},
            "local-definitions": {
                "activities": [
                    {
                        "uuid": u(610),
                        "title": "Examine the account policy",
                        "description": "Read the account management policy.",
                    }
                ]
            },
            "reviewed-controls": {"control-selections": [{"include-all": {}}]},
            "tasks": [
                {
                    "uuid": u(620),
                    "type": "action",
                    "title": "Interview the administrators",
                    "description": f"The {MARKERS['assessment-plan']} interview of every administrator.",
                }
            ],
        }
    }


def assessment_results() -> dict[str, Any]:
    return {
        "assessment-results": {
            "uuid": u(700),
            "metadata": metadata("Test assessment results"),
            "import-ap": {"href": "assessment-plan.json"},
            "results": [
                {
                    "uuid": u(710),
                    "title": "First assessment",
                    "description": "The first assessment of the test system.",
                    "start": "2025-11-01T00:00:00+00:00",
                    "reviewed-controls": {"control-selections": [{"include-all": {}}]},
                    "findings": [
                        {
                            "uuid": u(720),
                            "title": "Stale accounts",
                            "description": f"The {MARKERS['assessment-results']} review found stale accounts.",
                            "target": {
                                "type": "objective-id",
                                "target-id": "ac-2_obj",
                                "status": {"state": "not-satisfied"},
                            },
                        }
                    ],
                }
            ],
        }
    }


def poam() -> dict[str, Any]:
    return {
        "plan-of-action-and-milestones": {
            "uuid": u(800),
            "metadata": metadata("Test POA&M"),
            "poam-items": [
                {
                    "uuid": u(810),
                    "title": "Remove stale accounts",
                    "description": f"The {MARKERS['plan-of-action-and-milestones']} clean-up of stale accounts.",
                }
            ],
        }
    }


def mapping_collection() -> dict[str, Any]:
    return {
        "mapping-collection": {
            "uuid": u(900),
            "metadata": metadata("Test mapping collection"),
            "provenance": {
                "method": "human",
                "matching-rationale": "semantic",
                "status": "draft",
                "mapping-description": "Test mappings.",
            },
            "mappings": [
                {
                    "uuid": u(910),
                    "source-resource": {"type": "catalog", "href": "https://example.org/source.json"},
                    "target-resource": {"type": "catalog", "href": BUNDLED_CATALOG_HREF},
                    "maps": [
                        {
                            "uuid": u(920),
                            "relationship": "equivalent-to",
                            "sources": [{"type": "control", "id-ref": "src-1"}],
                            "targets": [{"type": "control", "id-ref": "ac-2"}],
                            "remarks": f"The {MARKERS['mapping-collection']} equivalence.",
                        }
                    ],
                }
            ],
        }
    }


def component_definition() -> dict[str, Any]:
    return {
        "component-definition": {
            "uuid": u(1000),
            "metadata": metadata("Test vault component definition"),
            "components": [
                {
                    "uuid": u(1010),
                    "type": "software",
                    "title": "Vault",
                    "description": f"The {MARKERS['component-definition']} secret store.",
                }
            ],
        }
    }


def tailored_profile(frequency: str = "every 30 days") -> dict[str, Any]:
    """A profile of three SP 800-53 controls that sets ac-2's review frequency (ac-2_prm_10)."""
    return {
        "profile": {
            "uuid": u(1100),
            "metadata": metadata(f"Test {MARKERS['profile']} overlay"),
            "imports": [
                {
                    "href": BUNDLED_CATALOG_HREF,
                    "include-controls": [{"with-ids": ["ac-1", "ac-2", "ac-2.1"]}],
                }
            ],
            "merge": {"as-is": True},
            "modify": {"set-parameters": [{"param-id": "ac-2_prm_10", "values": [frequency]}]},
        }
    }


DOCUMENTS = {
    "ssp.json": ssp,
    "assessment-plan.json": assessment_plan,
    "assessment-results.json": assessment_results,
    "poam.json": poam,
    "mappings.json": mapping_collection,
    "vault-component.json": component_definition,
    "profiles/capybara-profile.json": tailored_profile,
}


def write_documents(directory: Path) -> Path:
    """Write one document of each model (and the tailored profile) under `directory`."""
    for name, build in DOCUMENTS.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(build()), encoding="utf-8")
    return directory
