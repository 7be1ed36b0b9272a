"""Auth settings added with the one settings system: the prefix as a parameter, sections, the
cache secret, plain http to the Authorization Server."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import BaseModel

from oscal_mcp_auth import (
    AuthConfig,
    ConfigurationError,
    DPoPPolicy,
    backend_settings,
    load_verifier,
    read_environment,
)
from oscal_mcp_auth.hooks import create_plugin_manager

SECRET = "s3cr3t-value-that-is-long-enough-0123456789"
REDIS = {"OSCAL_AUTH_CACHE_URL": "redis://127.0.0.1:6379/0"}


class DemoSettings(BaseModel):
    deny_clients: str = ""


def test_the_prefix_is_a_parameter() -> None:
    values = {"MYAPP_AUTH_ISSUER_URL": "https://idp.example.com", "OSCAL_AUTH_ISSUER_URL": "https://other.example"}
    config = AuthConfig.from_mapping(values, prefix="MYAPP_AUTH_")
    assert (config.issuer_url, config.verifier) == ("https://idp.example.com", "jwt")
    with pytest.raises(ConfigurationError, match="MYAPP_AUTH_LEEWAY_SECONDS='x'"):
        AuthConfig.from_mapping({"MYAPP_AUTH_LEEWAY_SECONDS": "x"}, prefix="MYAPP_AUTH_")


def test_from_environment_reads_dotenv_then_environment_then_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("X_AUTH_LEEWAY_SECONDS=1\nX_AUTH_REQUIRED_SCOPES=from-dotenv\nX_AUTH_VERIFIER=static\n")
    monkeypatch.setenv("X_AUTH_LEEWAY_SECONDS", "2")
    monkeypatch.setenv("X_AUTH_REQUIRED_SCOPES", "from-env")
    config = AuthConfig.from_environment(
        prefix="X_AUTH_", env_file=dotenv, overrides={"X_AUTH_LEEWAY_SECONDS": "3", "X_AUTH_VERIFIER": None}
    )
    assert (config.leeway_seconds, config.required_scopes, config.verifier) == (3, ("from-env",), "static")
    assert set(read_environment("X_AUTH_", env_file=dotenv)) >= {"X_AUTH_LEEWAY_SECONDS", "X_AUTH_VERIFIER"}


def test_a_plugin_sees_only_its_own_section() -> None:
    config = AuthConfig.from_mapping(
        {
            "OSCAL_AUTH_VERIFIER": "demo-hmac",
            "OSCAL_AUTH_DEMO_HMAC_SECRET": "the verifier's, not the hook plugin's",
            "OSCAL_AUTH_DEMO_DENY_CLIENTS": "mallory",
            "OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET": "another backend's secret",
        }
    )
    assert backend_settings(config, "demo", DemoSettings).deny_clients == "mallory"
    assert config.section("demo") == {
        "OSCAL_AUTH_DEMO_HMAC_SECRET": "the verifier's, not the hook plugin's",
        "OSCAL_AUTH_DEMO_DENY_CLIENTS": "mallory",
    }
    assert "OSCAL_AUTH_ISSUER_URL" not in config.sections  # shared settings are validated, not passed on


def test_only_variables_with_the_prefix_are_kept() -> None:
    config = AuthConfig.from_mapping({"OSCAL_MCP_HOST": "0.0.0.0", "OSCAL_FILE_ROOTS": "/", "OSCAL_AUTH_X_Y": "1"})
    assert dict(config.sections) == {"OSCAL_AUTH_X_Y": "1"}


def test_the_cache_secret_is_required_with_a_cache_url() -> None:
    with pytest.raises(ConfigurationError, match=r"OSCAL_AUTH_CACHE_SECRET \(or OSCAL_AUTH_CACHE_SECRET_FILE\)"):
        AuthConfig.from_mapping(REDIS)
    assert AuthConfig.from_mapping({**REDIS, "OSCAL_AUTH_CACHE_SECRET": SECRET}).cache_secret == SECRET.encode()


def test_the_cache_secret_comes_from_exactly_one_source(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(SECRET.encode() + b"\n")
    assert AuthConfig.from_mapping({**REDIS, "OSCAL_AUTH_CACHE_SECRET_FILE": str(path)}).cache_secret == SECRET.encode()
    with pytest.raises(ConfigurationError, match="not both"):
        AuthConfig.from_mapping({**REDIS, "OSCAL_AUTH_CACHE_SECRET": SECRET, "OSCAL_AUTH_CACHE_SECRET_FILE": str(path)})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"OSCAL_AUTH_CACHE_SECRET": "short-" + "x" * 20}, "OSCAL_AUTH_CACHE_SECRET is too short; use at least 32"),
        ({"OSCAL_AUTH_CACHE_SECRET_FILE": "/no/such/file"}, "OSCAL_AUTH_CACHE_SECRET_FILE='/no/such/file' cannot be"),
    ],
)
def test_a_bad_cache_secret_is_refused_without_echoing_it(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as error:
        AuthConfig.from_mapping({**REDIS, **values})
    assert "x" * 20 not in str(error.value)


def test_the_cache_secret_is_never_in_repr() -> None:
    assert SECRET not in repr(AuthConfig.from_mapping({**REDIS, "OSCAL_AUTH_CACHE_SECRET": SECRET}))


@pytest.mark.parametrize(
    "url",
    ["https://a.example.com,https://b.example.com", "https://a.example.com, https://b.example.com"],
)
def test_a_list_of_issuers_is_read_in_order(url: str) -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_ISSUER_URL": url})
    assert config.issuer_urls == ("https://a.example.com", "https://b.example.com")
    assert config.issuer_url == "https://a.example.com"


@pytest.mark.parametrize(
    ("url", "named"),
    [("https://a.example.com,idp.example.com", "'idp.example.com' is not a valid URL"),
     ("https://a.example.com,https://b.example.com https://c.example.com", "is not one URL"),
     ("https://a.example.com,https://user:pw@b.example.com", "must not carry credentials")],
)  # fmt: skip
def test_a_bad_issuer_in_the_list_is_one_line_naming_it(url: str, named: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^OSCAL_AUTH_ISSUER_URL: .*") as error:
        AuthConfig.from_mapping({"OSCAL_AUTH_ISSUER_URL": url})
    assert named in str(error.value) and "\n" not in str(error.value)
    assert "pw" not in str(error.value)


@pytest.mark.parametrize(
    ("issuer", "accepted"),
    [
        ("http://idp.example.com", False),
        ("http://10.0.0.5:8080/realms/x", False),
        ("http://127.0.0.1:9000", True),
        ("http://127.9.9.9:9000", True),
        ("http://localhost:9000", True),
        ("http://[::1]:9000", True),
        ("https://idp.example.com", True),
    ],
)
def test_plain_http_to_the_authorization_server_needs_loopback(issuer: str, accepted: bool) -> None:
    values = {"OSCAL_AUTH_ISSUER_URL": issuer}
    if accepted:
        assert AuthConfig.from_mapping(values).issuer_url == issuer
    else:
        with pytest.raises(ConfigurationError, match="is plain http to a host that is not loopback"):
            AuthConfig.from_mapping(values)


def test_allowing_insecure_http_logs_a_warning_at_start_up(caplog: pytest.LogCaptureFixture) -> None:
    config = AuthConfig.from_mapping(
        {
            "OSCAL_AUTH_ISSUER_URL": "http://idp.example.com",
            "OSCAL_AUTH_RESOURCE_SERVER_URL": "https://oscal.example.com/mcp",
            "OSCAL_AUTH_ALLOW_INSECURE_HTTP": "true",
        }
    )
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        load_verifier(config, plugin_manager=create_plugin_manager(load_entry_points=False))
    assert [r.levelname for r in caplog.records if "OSCAL_AUTH_ALLOW_INSECURE_HTTP=true" in r.getMessage()] == [
        "WARNING"
    ]


def test_dpop_is_on_by_default_with_es256_and_rs256() -> None:
    policy = AuthConfig.from_mapping({"OSCAL_AUTH_LEEWAY_SECONDS": "5"}).dpop
    assert policy == DPoPPolicy(algorithms=("ES256", "RS256"), max_age_seconds=300, leeway_seconds=5, required=False)


def test_dpop_settings_are_read_and_an_empty_list_turns_dpop_off() -> None:
    config = AuthConfig.from_mapping(
        {"OSCAL_AUTH_DPOP_ALGORITHMS": "PS256, EdDSA", "OSCAL_AUTH_DPOP_MAX_AGE_SECONDS": "60",
         "OSCAL_AUTH_DPOP_REQUIRED": "true", "OSCAL_AUTH_DPOP_NONCE": "true"}
    )  # fmt: skip
    assert config.dpop == DPoPPolicy(algorithms=("PS256", "EdDSA"), max_age_seconds=60, required=True)
    assert config.dpop_nonce
    assert AuthConfig.from_mapping({"OSCAL_AUTH_DPOP_ALGORITHMS": ""}).dpop is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"OSCAL_AUTH_DPOP_ALGORITHMS": "ES256,HS256"}, "OSCAL_AUTH_DPOP_ALGORITHMS.*HS256 is not accepted"),
        ({"OSCAL_AUTH_DPOP_ALGORITHMS": "none"}, "none is not accepted"),
        ({"OSCAL_AUTH_DPOP_MAX_AGE_SECONDS": "0"}, "OSCAL_AUTH_DPOP_MAX_AGE_SECONDS='0': out of range"),
        ({"OSCAL_AUTH_DPOP_REQUIRED": "maybe"}, "OSCAL_AUTH_DPOP_REQUIRED='maybe': not a boolean"),
        ({"OSCAL_AUTH_DPOP_ALGORITHMS": "", "OSCAL_AUTH_DPOP_REQUIRED": "true"}, "DPOP_REQUIRED=true needs DPoP"),
        ({"OSCAL_AUTH_DPOP_ALGORITHMS": "", "OSCAL_AUTH_DPOP_NONCE": "true"}, "DPOP_NONCE=true needs DPoP"),
    ],
)
def test_a_bad_dpop_setting_stops_start_up_naming_it(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AuthConfig.from_mapping(values)
