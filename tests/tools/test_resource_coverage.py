"""The curated resource list covers what practitioners look for, each area with several entries."""

from __future__ import annotations

import pytest

from oscal_mcp.tools.resources import catalog, list_resources


@pytest.mark.parametrize("topic", ["catalogs", "profiles", "fedramp", "tools", "sdks", "converters", "learning"])
def test_each_practitioner_area_has_several_resources(topic: str) -> None:
    assert list_resources(topic).total >= 3


def test_fedramp_baselines_and_the_bundled_nist_content_are_listed() -> None:
    names = {r.name for r in catalog().resources}
    assert {"FedRAMP rev 5 baselines in OSCAL", "NIST SP 800-53 rev 5 in OSCAL", "OSCAL releases"} <= names
    nist = next(r for r in catalog().resources if r.name == "NIST SP 800-53 rev 5 in OSCAL")
    assert "bundles" in nist.description
