"""OSCAL documents the tests (and bench/bench_tools.py) write themselves: nothing is fetched."""

from __future__ import annotations

import json
import uuid
from typing import Any

METADATA = {
    "title": "Generated test document",
    "last-modified": "2025-11-26T00:00:00+00:00",
    "version": "1.0.0",
    "oscal-version": "1.2.1",
}


def _uuid(seed: int) -> str:
    return str(uuid.UUID(int=seed, version=4))


def control(group: str, number: int, prose_words: int = 20) -> dict[str, Any]:
    cid = f"{group}-{number}"
    return {
        "id": cid,
        "class": "SP800-53",
        "title": f"Control {cid}",
        "params": [{"id": f"{cid}_prm_1", "label": "organization-defined frequency"}],
        "props": [{"name": "label", "value": cid.upper()}, {"name": "sort-id", "value": f"{group}-{number:03d}"}],
        "parts": [
            {
                "id": f"{cid}_smt",
                "name": "statement",
                "prose": " ".join(["The organization does what the control requires."] * (prose_words // 8 + 1)),
                "parts": [
                    {"id": f"{cid}_smt.{item}", "name": "item", "prose": "Review the {{ insert: param, x }} item."}
                    for item in "abc"
                ],
            },
            {"id": f"{cid}_gdn", "name": "guidance", "prose": "Guidance text. " * (prose_words // 2)},
        ],
    }


def catalog(groups: int = 2, controls_per_group: int = 3) -> dict[str, Any]:
    """A valid OSCAL catalog with `groups` groups of `controls_per_group` controls."""
    return {
        "catalog": {
            "uuid": _uuid(1),
            "metadata": dict(METADATA),
            "groups": [
                {
                    "id": f"g{g}",
                    "class": "family",
                    "title": f"Group {g}",
                    "controls": [control(f"g{g}", n) for n in range(1, controls_per_group + 1)],
                }
                for g in range(groups)
            ],
        }
    }


def catalog_of_size(target_bytes: int) -> str:
    """A valid catalog serialized to JSON of at least `target_bytes` (one group per 20 controls)."""
    doc = catalog(groups=0)
    groups = doc["catalog"]["groups"]
    size = len(json.dumps(doc))
    while size < target_bytes:
        g = len(groups)
        group = {
            "id": f"g{g}",
            "class": "family",
            "title": f"Group {g}",
            "controls": [control(f"g{g}", n) for n in range(1, 21)],
        }
        groups.append(group)
        size += len(json.dumps(group)) + 2
    return json.dumps(doc)


def component_definition(title: str = "Test component definition", seed: int = 100) -> dict[str, Any]:
    comp = _uuid(seed + 1)
    return {
        "component-definition": {
            "uuid": _uuid(seed),
            "metadata": {**METADATA, "title": title},
            "components": [
                {
                    "uuid": comp,
                    "type": "software",
                    "title": f"{title} widget",
                    "description": "A widget used by the tests.",
                    "control-implementations": [
                        {
                            "uuid": _uuid(seed + 2),
                            "source": "https://example.org/catalog.json",
                            "description": "Widget controls.",
                            "implemented-requirements": [
                                {
                                    "uuid": _uuid(seed + 10 + i),
                                    "control-id": f"ac-{i + 1}",
                                    "description": f"Does ac-{i + 1}.",
                                }
                                for i in range(3)
                            ],
                        }
                    ],
                }
            ],
            "capabilities": [
                {
                    "uuid": _uuid(seed + 3),
                    "name": f"{title} capability",
                    "description": "Groups the widget.",
                    "incorporates-components": [{"component-uuid": comp, "description": "The widget."}],
                }
            ],
        }
    }


def numbers_for_strings(node: Any) -> Any:
    """Every string replaced by a number: the most expensive kind of invalid document to list."""
    if isinstance(node, dict):
        return {key: numbers_for_strings(value) for key, value in node.items()}
    if isinstance(node, list):
        return [numbers_for_strings(item) for item in node]
    return 7 if isinstance(node, str) else node


def mapping_collection() -> dict[str, Any]:
    """A valid OSCAL 1.2 mapping collection: one mapping of two controls."""
    return {
        "mapping-collection": {
            "uuid": _uuid(50),
            "metadata": dict(METADATA),
            "provenance": {
                "method": "human",
                "matching-rationale": "semantic",
                "status": "complete",
                "mapping-description": "Maps the test catalog onto itself.",
            },
            "mappings": [
                {
                    "uuid": _uuid(51),
                    "method": "human",
                    "source-resource": {"type": "catalog", "href": "https://example.org/source.json"},
                    "target-resource": {"type": "catalog", "href": "https://example.org/target.json"},
                    "maps": [
                        {
                            "uuid": _uuid(52),
                            "relationship": "equivalent-to",
                            "sources": [{"type": "control", "id-ref": "ac-1"}],
                            "targets": [{"type": "control", "id-ref": "ac-1"}],
                        }
                    ],
                }
            ],
        }
    }


def poam() -> dict[str, Any]:
    """A valid POA&M with one finding whose target has a status, and one item."""
    return {
        "plan-of-action-and-milestones": {
            "uuid": _uuid(60),
            "metadata": dict(METADATA),
            "findings": [
                {
                    "uuid": _uuid(61),
                    "title": "Weak passwords",
                    "description": "Passwords are too short.",
                    "target": {
                        "type": "objective-id",
                        "target-id": "ia-5_obj.1",
                        "status": {"state": "not-satisfied"},
                    },
                }
            ],
            "poam-items": [{"uuid": _uuid(62), "title": "Lengthen passwords", "description": "Require 15 characters."}],
        }
    }


def with_party(document: dict[str, Any], party_type: str) -> dict[str, Any]:
    """`document` with one party of `party_type` in its metadata."""
    (inner,) = document.values()
    inner["metadata"]["parties"] = [{"uuid": _uuid(70), "type": party_type, "name": "Test party"}]
    return document


def kms_like_component_definition(regions: int = 33) -> dict[str, Any]:
    """A component definition shaped like the AWS KMS one of the reference server's archive: a service
    whose props carry ns/class/group and whose "provided-by" links name the regions offering it."""
    aws = "http://aws.amazon.com/ns/oscal"
    return {
        "component-definition": {
            "uuid": _uuid(80),
            "metadata": {**METADATA, "title": "Key Management Service (KMS)", "oscal-version": "1.1.3"},
            "components": [
                {
                    "uuid": "E2647BFB-2655-4DC7-BFC9-BB95529C8712".lower(),
                    "type": "service",
                    "title": "KMS",
                    "description": "_Empty_",
                    "props": [
                        {"name": "service-id", "value": "KMS", "ns": aws},
                        {"name": "availability", "value": "REGIONAL", "ns": aws},
                        {
                            "name": "label",
                            "value": "Key Management Service (KMS)",
                            "class": "serviceFullName",
                            "group": "service",
                        },
                        {
                            "name": "label",
                            "value": "AWS Key Management Service",
                            "class": "marketingName",
                            "group": "marketing",
                        },
                    ],
                    "links": [
                        {
                            "rel": "provided-by",
                            "href": f"#{_uuid(81)}",
                            "resource-fragment": _uuid(1000 + n),
                            "text": f"Region {n:02d}",
                        }
                        for n in range(regions)
                    ],
                    "responsible-roles": [{"role-id": "provider"}],
                    "protocols": [
                        {
                            "uuid": _uuid(82),
                            "name": "https",
                            "port-ranges": [{"start": 443, "end": 443, "transport": "TCP"}],
                        }
                    ],
                },
                {
                    "uuid": _uuid(83),
                    "type": "service",
                    "title": "S3",
                    "description": "Object storage.",
                    "props": [{"name": "label", "value": "Amazon Simple Storage Service", "class": "marketingName"}],
                },
            ],
            "capabilities": [
                {
                    "uuid": _uuid(84),
                    "name": "Encryption at rest",
                    "description": "Keys from KMS encrypt objects stored in S3.",
                    "props": [{"name": "category", "value": "data-protection"}],
                    "incorporates-components": [
                        {"component-uuid": "e2647bfb-2655-4dc7-bfc9-bb95529c8712", "description": "Holds the keys."},
                        {"component-uuid": _uuid(83), "description": "Stores the objects."},
                    ],
                }
            ],
        }
    }
