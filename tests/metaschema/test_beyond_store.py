"""The beyond-NIST control-id check resolves an SSP's profile from the document store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.metaschema.corpus import fresh, uid
from tests.tools.conftest import Connect, structured

RULE = "oscal-mcp-implemented-requirement-control-id-in-source"


def _profile() -> dict[str, object]:
    document = fresh("profile")
    body = document["profile"]
    body["imports"] = [
        {"href": "NIST_SP-800-53_rev5_catalog.json", "include-controls": [{"with-ids": ["ac-1", "ac-2"]}]}
    ]
    del body["back-matter"]
    body["uuid"] = uid(4100)
    return document


@pytest.mark.anyio
async def test_a_control_outside_a_stored_profile_is_a_warning(connect: Connect, tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "agency-baseline.json").write_text(json.dumps(_profile()))
    ssp = fresh("system-security-plan")
    ssp["system-security-plan"]["import-profile"]["href"] = "https://example.com/profiles/agency-baseline.json"
    async with connect(OSCAL_DOCUMENTS_DIR=str(documents)) as client:
        structured(await client.call_tool("list_oscal_documents", {}))  # the store is built
        result = structured(await client.call_tool("validate_oscal_content", {"content": json.dumps(ssp)}))
    constraints = result["levels"][3]
    assert result["valid"] is True and constraints["error_count"] == 0
    (warning,) = constraints["warnings"]
    assert warning["constraint_id"] == RULE and warning["severity"] == "WARNING"
    assert warning["path"] == "$.system-security-plan.control-implementation.implemented-requirements[2].control-id"
    assert warning["message"].startswith("'ac-3' is not a control of the imported profile")


@pytest.mark.anyio
async def test_an_unresolvable_source_is_not_checked(connect: Connect) -> None:
    ssp = fresh("system-security-plan")
    ssp["system-security-plan"]["import-profile"]["href"] = "https://example.com/unknown-profile.json"
    ssp["system-security-plan"]["control-implementation"]["implemented-requirements"][0]["control-id"] = "zz-99"
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_content", {"content": json.dumps(ssp)}))
    assert result["levels"][3]["warnings"] == []
