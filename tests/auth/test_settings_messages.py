"""The auth settings' refusals word for word (each names the variable and what to do), and the
edges of the cache secret and the sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from oscal_mcp_auth import AuthConfig, ConfigurationError

SECRET = "s3cr3t-value-that-is-long-enough-0123456789"
REDIS = {"OSCAL_AUTH_CACHE_URL": "redis://127.0.0.1:6379/0"}


def refusal(values: dict[str, str]) -> str:
    with pytest.raises(ConfigurationError) as refused:
        AuthConfig.from_mapping(values)
    return str(refused.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (REDIS, "OSCAL_AUTH_CACHE_URL needs OSCAL_AUTH_CACHE_SECRET (or OSCAL_AUTH_CACHE_SECRET_FILE): at least 32 "
                "random bytes shared by the replicas, e.g. the output of python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'"),
        ({**REDIS, "OSCAL_AUTH_CACHE_SECRET": SECRET, "OSCAL_AUTH_CACHE_SECRET_FILE": "/x"},
         "set either OSCAL_AUTH_CACHE_SECRET or OSCAL_AUTH_CACHE_SECRET_FILE, not both"),
        ({**REDIS, "OSCAL_AUTH_CACHE_SECRET": "x" * 31},
         "OSCAL_AUTH_CACHE_SECRET is too short; use at least 32 random bytes"),
        ({**REDIS, "OSCAL_AUTH_CACHE_SECRET_FILE": "/no/such"},
         "OSCAL_AUTH_CACHE_SECRET_FILE='/no/such' cannot be read: No such file or directory"),
        ({"OSCAL_AUTH_DPOP_ALGORITHMS": "", "OSCAL_AUTH_DPOP_REQUIRED": "true", "OSCAL_AUTH_DPOP_NONCE": "true"},
         "OSCAL_AUTH_DPOP_REQUIRED=true needs DPoP, which is off: OSCAL_AUTH_DPOP_ALGORITHMS is empty"),
        ({"OSCAL_AUTH_DPOP_ALGORITHMS": "", "OSCAL_AUTH_DPOP_NONCE": "true"},
         "OSCAL_AUTH_DPOP_NONCE=true needs DPoP, which is off: OSCAL_AUTH_DPOP_ALGORITHMS is empty"),
        ({"OSCAL_AUTH_CACHE_URL": "http://x"},
         "OSCAL_AUTH_CACHE_URL='http://x': is not a redis://, rediss:// or unix:// URL"),
        ({"OSCAL_AUTH_CACHE_URL": "redis://"},
         "OSCAL_AUTH_CACHE_URL='redis://': is not a redis://, rediss:// or unix:// URL"),
    ],
)  # fmt: skip
def test_a_refused_setting_is_named_with_what_to_do(values: dict[str, str], message: str) -> None:
    assert refusal(values) == message


@pytest.mark.parametrize("url", ["redis://cache:6379/0", "rediss://cache", "unix:///run/redis.sock"])
def test_every_redis_url_form_is_accepted(url: str) -> None:
    assert AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_URL": url, "OSCAL_AUTH_CACHE_SECRET": SECRET}).cache_url == url


def test_a_cache_secret_of_exactly_32_bytes_is_enough(tmp_path: Path) -> None:
    exact = "x" * 32
    assert AuthConfig.from_mapping({**REDIS, "OSCAL_AUTH_CACHE_SECRET": exact}).cache_secret == exact.encode()
    short_file = tmp_path / "short"
    short_file.write_bytes(b"y" * 31 + b"\r\n")
    short_file.chmod(0o600)
    assert refusal({**REDIS, "OSCAL_AUTH_CACHE_SECRET_FILE": str(short_file)}) == (
        "OSCAL_AUTH_CACHE_SECRET_FILE is too short; use at least 32 random bytes"
    )
    exact_file = tmp_path / "exact"
    exact_file.write_bytes(b"y" * 32 + b"\r\n")
    exact_file.chmod(0o600)
    assert AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_SECRET_FILE": str(exact_file)}).cache_secret == b"y" * 32


def test_a_secret_without_a_cache_url_is_still_checked_and_kept() -> None:
    assert AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_SECRET": SECRET}).cache_secret == SECRET.encode()
    assert AuthConfig.from_mapping({}).cache_secret is None


def test_sections_and_names_follow_the_prefix() -> None:
    config = AuthConfig.from_mapping(
        {"X_ISSUER_URL": "https://a.example", "X_DEMO_HMAC_KEY": "k", "X_DEMO_A": "1", "OSCAL_AUTH_Y": "z"},
        prefix="X_",
    )
    assert (config.verifier, config.issuer_url, config.configured) == ("jwt", "https://a.example", True)
    assert dict(config.sections) == {"X_DEMO_HMAC_KEY": "k", "X_DEMO_A": "1"}
    assert config.section("demo") == {"X_DEMO_HMAC_KEY": "k", "X_DEMO_A": "1"}
    assert config.section("demo-hmac") == {"X_DEMO_HMAC_KEY": "k"}
    assert config.name_of("ISSUER_URL") == "X_ISSUER_URL"
    unconfigured = AuthConfig.from_mapping({})
    assert (unconfigured.verifier, unconfigured.issuer_url, unconfigured.issuer_urls) == (None, None, ())
    assert not unconfigured.configured


def test_the_resource_url_defaults_only_when_unset() -> None:
    default = "http://127.0.0.1:8000/mcp"
    assert AuthConfig.from_mapping({}, default_resource_url=default).resource_server_url == default
    given = {"OSCAL_AUTH_RESOURCE_SERVER_URL": "https://oscal.example.com/mcp"}
    assert (
        AuthConfig.from_mapping(given, default_resource_url=default).resource_server_url
        == given["OSCAL_AUTH_RESOURCE_SERVER_URL"]
    )


def test_a_secret_file_loses_only_the_whitespace_around_it(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"X" + b"s" * 31 + b"X\r\n")
    path.chmod(0o600)
    assert AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_SECRET_FILE": str(path)}).cache_secret == b"X" + b"s" * 31 + b"X"


def test_the_environment_reader_passes_the_default_resource_url_on(tmp_path: Path) -> None:
    config = AuthConfig.from_environment(
        env_file=tmp_path / "absent.env", overrides={}, default_resource_url="http://127.0.0.1:8000/mcp"
    )
    assert config.resource_server_url == "http://127.0.0.1:8000/mcp"
