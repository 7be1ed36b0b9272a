"""AuthConfig and backend settings: validated once, errors name the variable."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, SecretStr

from oscal_mcp_auth import AuthConfig, ConfigurationError, backend_settings


class ExampleSettings(BaseModel):
    timeout_seconds: float = 5.0
    client_secret: SecretStr | None = None


def test_auth_is_off_without_issuer_or_verifier() -> None:
    assert AuthConfig.from_mapping({}).configured is False


def test_verifier_defaults_to_jwt_with_an_issuer() -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_ISSUER_URL": "https://idp.example.com/realms/x"})
    assert config.verifier == "jwt"
    assert config.issuer_url == "https://idp.example.com/realms/x"


def test_leeway_has_a_default_and_bounds() -> None:
    assert AuthConfig.from_mapping({}).leeway_seconds == 60
    assert AuthConfig.from_mapping({"OSCAL_AUTH_LEEWAY_SECONDS": "5"}).leeway_seconds == 5
    with pytest.raises(ConfigurationError, match="OSCAL_AUTH_LEEWAY_SECONDS='-1': out of range; use 0 to 3600"):
        AuthConfig.from_mapping({"OSCAL_AUTH_LEEWAY_SECONDS": "-1"})


def test_backend_settings_read_their_prefix() -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_EXAMPLE_TIMEOUT_SECONDS": "2.5", "OSCAL_AUTH_OTHER_X": "1"})
    assert backend_settings(config, "example", ExampleSettings).timeout_seconds == 2.5


def test_backend_settings_error_names_the_variable() -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_EXAMPLE_TIMEOUT_SECONDS": "soon"})
    with pytest.raises(ConfigurationError, match=r"OSCAL_AUTH_EXAMPLE_TIMEOUT_SECONDS='soon': not a number"):
        backend_settings(config, "example", ExampleSettings)


def test_backend_settings_refuse_unknown_variables() -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_EXAMPLE_TIMEOUT_SECOND": "1"})
    with pytest.raises(
        ConfigurationError, match=r"unknown setting OSCAL_AUTH_EXAMPLE_TIMEOUT_SECOND;.*TIMEOUT_SECONDS"
    ):
        backend_settings(config, "example", ExampleSettings)


def test_an_unknown_variable_is_refused_listing_every_accepted_name() -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_EXAMPLE_TIMEOUT": "1"})
    with pytest.raises(ConfigurationError) as refused:
        backend_settings(config, "example", ExampleSettings)
    assert str(refused.value) == (
        "unknown setting OSCAL_AUTH_EXAMPLE_TIMEOUT; the example settings accepts: "
        "OSCAL_AUTH_EXAMPLE_TIMEOUT_SECONDS, OSCAL_AUTH_EXAMPLE_CLIENT_SECRET"
    )


def test_backend_settings_never_echo_a_secret() -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_EXAMPLE_CLIENT_SECRET": ["not", "a", "string"]})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError) as error:
        backend_settings(config, "example", ExampleSettings)
    assert "OSCAL_AUTH_EXAMPLE_CLIENT_SECRET" in str(error.value)
    assert "not" not in str(error.value).replace("OSCAL", "")


def test_sections_are_read_only_and_not_in_repr() -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_EXAMPLE_CLIENT_SECRET": "hunter2"})
    with pytest.raises(TypeError):
        config.sections["X"] = "y"  # type: ignore[index]
    assert "hunter2" not in repr(config)


def test_required_scopes_accept_spaces_too() -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read oscal:write, profile"})
    assert config.required_scopes == ("oscal:read", "oscal:write", "profile")


def test_a_url_with_credentials_is_never_echoed() -> None:
    class UrlSettings(BaseModel):
        url: int  # any validation failure

    config = AuthConfig.from_mapping({"OSCAL_AUTH_EXAMPLE_URL": "https://rs:S3cr3tP4ss@as.example.com/x"})
    with pytest.raises(ConfigurationError) as error:
        backend_settings(config, "example", UrlSettings)
    assert "S3cr3tP4ss" not in str(error.value)
    assert "OSCAL_AUTH_EXAMPLE_URL" in str(error.value)


def test_an_issuer_with_credentials_is_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigurationError) as error:
        AuthConfig.from_mapping({"OSCAL_AUTH_ISSUER_URL": "https://admin:Pa55word@idp.example.com"})
    assert "OSCAL_AUTH_ISSUER_URL: must not carry credentials" in str(error.value)
    assert "Pa55word" not in str(error.value)
