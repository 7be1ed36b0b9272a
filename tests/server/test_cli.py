"""The command line itself: --version, --help, both entry points."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

from oscal_mcp.cli import build_parser, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"oscal-mcp {version('oscal-mcp')}"


def test_help_names_every_environment_twin() -> None:
    text = build_parser().format_help()
    for name in (
        "OSCAL_MCP_TRANSPORT", "OSCAL_MCP_HOST", "OSCAL_MCP_PORT", "OSCAL_MCP_PATH", "OSCAL_MCP_STATELESS_HTTP",
        "OSCAL_MCP_SERVER_NAME", "OSCAL_MCP_LOG_LEVEL", "OSCAL_MCP_ALLOW_UNAUTHENTICATED", "OSCAL_AUTH_VERIFIER",
        "OSCAL_AUTH_ISSUER_URL", "OSCAL_AUTH_RESOURCE_SERVER_URL", "OSCAL_AUTH_REQUIRED_SCOPES",
        "OSCAL_MCP_ALLOWED_HOSTS", "OSCAL_MCP_ALLOWED_ORIGINS", "OSCAL_MCP_CORS_ORIGINS", "OSCAL_MCP_JSON_RESPONSE",
    ):  # fmt: skip
        assert name in text


def test_python_dash_m_is_the_same_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oscal_mcp", "--transport", "bogus"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""  # stdout belongs to the protocol, even for errors
    assert "OSCAL_MCP_TRANSPORT='bogus'" in result.stderr


def test_console_script_is_installed() -> None:
    from importlib.metadata import entry_points

    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "oscal-mcp"]
    assert script.value == "oscal_mcp.cli:main"


def test_deployment_flags_reach_their_settings() -> None:
    from oscal_mcp.config import load_settings

    args = build_parser().parse_args(
        ["--allowed-hosts", "mcp.example.com,mcp.example.com:*", "--allowed-origins", "https://app.example",
         "--cors-origins", "https://app.example", "--json-response"]
    )  # fmt: skip
    settings = load_settings({k: v for k, v in vars(args).items() if v is not None})
    assert settings.allowed_hosts == ("mcp.example.com", "mcp.example.com:*")
    assert settings.allowed_origins == settings.cors_origins == ("https://app.example",)
    assert settings.json_response is True


def test_a_bad_allow_list_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--transport", "streamable-http", "--allowed-hosts", "https://mcp.example.com"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("oscal-mcp: error: OSCAL_MCP_ALLOWED_HOSTS: ")
