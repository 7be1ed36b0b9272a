"""Settings: precedence of the sources and one clear line for every invalid value."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from oscal_mcp.cli import main
from oscal_mcp.config import ConfigError, load_settings, merged_values
from oscal_mcp.errors import OscalMcpError
from oscal_mcp.launch import _warn_about_settings
from oscal_mcp_auth.errors import ConfigurationError


def test_defaults() -> None:
    settings = load_settings({})
    assert (settings.transport, settings.host, settings.port, settings.path) == ("stdio", "127.0.0.1", 8000, "/mcp")
    assert settings.stateless_http is False
    assert settings.log_level == "INFO"
    assert settings.max_request_bytes == 32 * 1024 * 1024
    assert settings.auth_enabled is False


def test_cli_beats_environment_beats_dotenv_beats_default(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("OSCAL_MCP_PORT=7001\nOSCAL_MCP_PATH=/from-dotenv\nOSCAL_MCP_SERVER_NAME=dotenv\n")
    environ = {"OSCAL_MCP_PORT": "7002", "OSCAL_MCP_PATH": "/from-env", "UNRELATED": "x"}
    cli = {"OSCAL_MCP_PORT": "7003", "OSCAL_MCP_TRANSPORT": None}
    settings = load_settings(merged_values(cli, environ=environ, dotenv_path=dotenv))
    assert settings.port == 7003  # CLI
    assert settings.path == "/from-env"  # environment over .env
    assert settings.server_name == "dotenv"  # .env over default
    assert settings.transport == "stdio"  # default; a flag not given does not override


def test_missing_dotenv_is_fine(tmp_path: Path) -> None:
    values = merged_values({}, environ={}, dotenv_path=tmp_path / "absent.env")
    assert values == {}


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--transport", "carrier-pigeon"], ["OSCAL_MCP_TRANSPORT", "'carrier-pigeon'", "stdio, streamable-http"]),
        (["--port", "0"], ["OSCAL_MCP_PORT='0'", "1 to 65535"]),
        (["--port", "eighty"], ["OSCAL_MCP_PORT", "'eighty'", "whole number"]),
        (["--log-level", "chatty"], ["OSCAL_MCP_LOG_LEVEL", "'chatty'", "DEBUG, INFO"]),
        (["--auth-issuer-url", "not a url"], ["OSCAL_AUTH_ISSUER_URL", "'not a url'", "http://"]),
        (["--auth-resource-server-url", "ftp://x/mcp"], ["OSCAL_AUTH_RESOURCE_SERVER_URL", "https://"]),
        (["--path", "mcp"], ["OSCAL_MCP_PATH", "'mcp'", "/mcp"]),
        (["--host", "a b"], ["OSCAL_MCP_HOST", "'a b'"]),
    ],
)
def test_invalid_setting_exits_2_with_one_line(
    argv: list[str], names: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).parent)  # no stray .env
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("oscal-mcp: error: ")
    for name in names:
        assert name in err
    assert "Traceback" not in err


def test_invalid_boolean_in_environment(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OSCAL_MCP_STATELESS_HTTP", "perhaps")
    assert main([]) == 2
    assert "OSCAL_MCP_STATELESS_HTTP='perhaps': not a boolean" in capsys.readouterr().err


def test_non_loopback_without_auth_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"non-loopback address 0\.0\.0\.0.*--allow-unauthenticated"):
        load_settings({"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_MCP_HOST": "0.0.0.0"})


def test_non_loopback_override_is_accepted_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(
        {"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_MCP_HOST": "0.0.0.0", "OSCAL_MCP_ALLOW_UNAUTHENTICATED": "1"}
    )
    with caplog.at_level(logging.WARNING, logger="oscal_mcp"):
        _warn_about_settings(settings)
    assert "WITHOUT authentication" in caplog.text


def test_non_loopback_with_auth_needs_public_resource_url() -> None:
    values = {"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_MCP_HOST": "10.1.2.3"}
    values["OSCAL_AUTH_ISSUER_URL"] = "https://idp.example.com"
    with pytest.raises(ConfigError, match="OSCAL_AUTH_RESOURCE_SERVER_URL is required"):
        load_settings(values)
    values["OSCAL_AUTH_RESOURCE_SERVER_URL"] = "https://oscal.example.com/mcp"
    assert load_settings(values).auth.resource_server_url == "https://oscal.example.com/mcp"


def test_stdio_is_never_affected_by_the_exposure_rule() -> None:
    settings = load_settings({"OSCAL_MCP_HOST": "0.0.0.0"})
    assert settings.transport == "stdio"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_hosts_need_no_auth(host: str) -> None:
    settings = load_settings({"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_MCP_HOST": host})
    assert settings.auth.configured is False


def test_resource_url_is_derived_for_loopback_only() -> None:
    settings = load_settings(
        {"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_MCP_PORT": "9123", "OSCAL_AUTH_ISSUER_URL": "https://as.test"}
    )
    assert settings.auth.resource_server_url == "http://127.0.0.1:9123/mcp"
    assert settings.auth.verifier == "jwt"  # default once an issuer is set


def test_auth_settings_with_stdio_only_warn(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings({"OSCAL_AUTH_ISSUER_URL": "https://idp.example.com"})
    assert settings.auth_enabled is False
    with caplog.at_level(logging.WARNING, logger="oscal_mcp"):
        _warn_about_settings(settings)
    assert "ignored with the stdio transport" in caplog.text


def test_required_scopes_are_comma_separated() -> None:
    settings = load_settings({"OSCAL_AUTH_REQUIRED_SCOPES": " oscal:read, ,oscal:write,oscal:read"})
    assert settings.auth.required_scopes == ("oscal:read", "oscal:write")


def test_server_errors_are_not_auth_errors() -> None:
    """Each package owns its error root: a tampered bundled file is the server's error, not an auth one."""
    assert not issubclass(ConfigError, ConfigurationError)
    assert issubclass(ConfigError, OscalMcpError)


def test_session_bounds_are_settings() -> None:
    settings = load_settings({"OSCAL_MCP_MAX_SESSIONS": "50", "OSCAL_MCP_SESSION_IDLE_SECONDS": "60"})
    assert (settings.max_sessions, settings.session_idle_seconds) == (50, 60)
    with pytest.raises(ConfigError, match="OSCAL_MCP_MAX_SESSIONS='0': out of range"):
        load_settings({"OSCAL_MCP_MAX_SESSIONS": "0"})


def test_deployment_lists_are_comma_separated_and_validated() -> None:
    settings = load_settings(
        {
            "OSCAL_MCP_ALLOWED_HOSTS": "oscal.example.com, oscal.example.com:8443,127.0.0.1:*,[::1]:8000",
            "OSCAL_MCP_ALLOWED_ORIGINS": "https://app.example.com,http://localhost:*",
            "OSCAL_MCP_CORS_ORIGINS": "https://app.example.com",
            "OSCAL_MCP_JSON_RESPONSE": "true",
        }
    )
    assert settings.allowed_hosts == ("oscal.example.com", "oscal.example.com:8443", "127.0.0.1:*", "[::1]:8000")
    assert settings.allowed_origins == ("https://app.example.com", "http://localhost:*")
    assert (settings.cors_origins, settings.json_response) == (("https://app.example.com",), True)
    assert load_settings({"OSCAL_MCP_CORS_ORIGINS": "*"}).cors_origins == ("*",)
    defaults = load_settings({})
    assert (defaults.allowed_hosts, defaults.allowed_origins, defaults.cors_origins, defaults.json_response) == (
        (),
        (),
        (),
        False,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OSCAL_MCP_ALLOWED_HOSTS", "https://oscal.example.com", "is not a host name or IP address"),
        ("OSCAL_MCP_ALLOWED_HOSTS", "a b", "is not a host name"),
        ("OSCAL_MCP_ALLOWED_ORIGINS", "app.example.com", "is not an origin"),
        ("OSCAL_MCP_ALLOWED_ORIGINS", "https://app.example.com/path", "is not an origin"),
        ("OSCAL_MCP_CORS_ORIGINS", "*,https://app.example.com", "cannot be combined with a list"),
        ("OSCAL_MCP_JSON_RESPONSE", "sometimes", "not a boolean"),
    ],
)
def test_bad_deployment_settings_name_the_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"{name}(=.*)?: .*{message}"):
        load_settings({name: value})


def test_the_new_flags_have_environment_twins() -> None:
    settings = load_settings(
        merged_values(
            {"OSCAL_MCP_ALLOWED_HOSTS": "a.example", "OSCAL_MCP_JSON_RESPONSE": "true"},
            environ={"OSCAL_MCP_ALLOWED_HOSTS": "b.example"},
            dotenv_path=Path("/nonexistent/.env"),
        )
    )
    assert (settings.allowed_hosts, settings.json_response) == (("a.example",), True)


def test_documents_dir_must_be_an_existing_directory(tmp_path: Path) -> None:
    assert load_settings({"OSCAL_DOCUMENTS_DIR": str(tmp_path)}).tools.documents_dir == tmp_path
    assert load_settings({}).tools.documents_dir is None
    with pytest.raises(ConfigError, match=r"OSCAL_DOCUMENTS_DIR=.*not an existing directory"):
        load_settings({"OSCAL_DOCUMENTS_DIR": str(tmp_path / "missing")})


@pytest.mark.parametrize("name", ["OSCAL_MCP_PORTT", "OSCAL_MAX_ERROR"])
def test_a_misspelt_setting_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match=f"unknown setting {name};"):
        load_settings({name: "1"})


def test_an_issuer_list_keeps_its_order() -> None:
    settings = load_settings(
        {
            "OSCAL_MCP_TRANSPORT": "streamable-http",
            "OSCAL_AUTH_ISSUER_URL": "https://b.example.com, https://a.example.com/",
        }
    )
    assert settings.auth.issuer_urls == ("https://b.example.com", "https://a.example.com/")


def test_a_bad_issuer_in_the_list_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).parent)
    argv = ["--transport", "streamable-http", "--auth-issuer-url", "https://a.example.com,b.example.com"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "OSCAL_AUTH_ISSUER_URL: 'b.example.com'" in err and "Traceback" not in err
