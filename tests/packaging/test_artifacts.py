"""What a packager gets: the sdist and the wheel carry the license, the typing marker, the tests and
metadata that `twine check` accepts."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import oscal_mcp
import oscal_mcp_auth

ROOT = Path(__file__).resolve().parents[2]


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def sdist_names(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        return {name.removeprefix(top + "/") for name in archive.getnames()}


def wheel_metadata(wheel: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(name).decode())
    return {key: message.get_all(key) or [] for key in set(message.keys())}


def test_twine_accepts_both_artifacts(artifacts: tuple[Path, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, artifacts)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_wheel_carries_license_typing_markers_and_dotenv_example(artifacts: tuple[Path, Path]) -> None:
    names = wheel_names(artifacts[1])
    assert {"oscal_mcp/py.typed", "oscal_mcp_auth/py.typed", "oscal_mcp/dotenv.example"} <= names
    # NIST's Metaschema modules and their shared-constraint entity files, which the modules include
    assert {
        "oscal_mcp/content/metaschema/1.2.3/oscal_ssp_metaschema.xml",
        "oscal_mcp/content/metaschema/1.2.1/shared-constraints/allowed-values-component-type.ent",
    } <= names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), sorted(names)


def test_sdist_carries_license_typing_markers_and_the_tests(artifacts: tuple[Path, Path]) -> None:
    names = sdist_names(artifacts[0])
    assert {"LICENSE", "oscal_mcp/py.typed", "oscal_mcp_auth/py.typed", "dotenv.example", "Makefile"} <= names
    assert {"tests/conftest.py", "tests/server/test_cli.py", "tests/e2e/authserver/package-lock.json"} <= names
    assert {"examples/clients/client_credentials.py", "deploy/mcpb/package-lock.json"} <= names
    assert not any("node_modules" in name or "__pycache__" in name for name in names)


def test_license_is_the_apache_2_0_text_the_metadata_names(artifacts: tuple[Path, Path]) -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    metadata = wheel_metadata(artifacts[1])
    assert metadata["License-Expression"] == ["Apache-2.0"]
    assert metadata["License-File"] == ["LICENSE"]


def test_metadata_names_project_urls_and_only_tested_pythons(artifacts: tuple[Path, Path]) -> None:
    metadata = wheel_metadata(artifacts[1])
    labels = {url.split(",")[0] for url in metadata["Project-URL"]}
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= labels
    python = "Programming Language :: Python :: 3."
    versions = {c.rsplit(" :: ", 1)[1] for c in metadata["Classifier"] if c.startswith(python)}
    assert versions == {"3.11", "3.12", "3.13"}  # the venv's and the ones `make test-pythons` runs


def test_both_packages_report_the_distribution_version(artifacts: tuple[Path, Path]) -> None:
    assert oscal_mcp_auth.__version__ == oscal_mcp.__version__ == wheel_metadata(artifacts[1])["Version"][0]
