"""Secrets inline or in files (issue 20 items 2 and 10): the two ways give the same bytes, and a
file group or others may write is refused (exit 2, naming the file and the chmod), one every user
may read is accepted with a warning."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oscal_mcp_auth import AuthConfig, ConfigurationError
from oscal_mcp_auth.backends.introspection_settings import load_settings as introspection_settings
from oscal_mcp_auth.backends.static import load_keys
from oscal_mcp_auth.secret_files import check_permissions, read_secret_file, secret_bytes

SECRET = "a-cache-secret-of-at-least-32-bytes-0123"
KEYS = '{"keys": [{"client_id": "ci", "key_sha256": "' + "0" * 64 + '"}]}'


def secret_file(directory: Path, content: bytes, mode: int = 0o600) -> Path:
    path = directory / "secret"
    path.write_bytes(content)
    path.chmod(mode)
    return path


def inline(secret: str) -> bytes | None:
    return AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_SECRET": secret}).cache_secret


def from_file(path: Path) -> bytes | None:
    return AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_SECRET_FILE": str(path)}).cache_secret


# Ids spelled in words: a backslash in a test id cannot be passed back to pytest as a node id
# (mutmut's stats step runs the tests by node id).
_WHITESPACE_NAMES = {ord("\n"): "LF", ord("\r"): "CR", ord(" "): "SP", ord("\t"): "TAB"}


def _spelled(written: bytes) -> str:
    return "-".join(_WHITESPACE_NAMES[byte] for byte in written) or "nothing"


@pytest.mark.parametrize(
    "written", [b"\n", b"\r\n", b" \n", b"\t \r\n", b"", b"  ", b"\n\n"], ids=_spelled
)  # an editor's, echo's and kubectl's endings, and whitespace an inline value loses too
def test_a_secret_file_gives_the_bytes_the_same_secret_gives_inline(tmp_path: Path, written: bytes) -> None:
    assert from_file(secret_file(tmp_path, SECRET.encode() + written)) == inline(SECRET) == SECRET.encode()
    assert from_file(secret_file(tmp_path, b" " + SECRET.encode() + written)) == inline(f" {SECRET} ")


def test_bytes_that_are_no_utf8_are_kept_from_a_file_and_refused_inline(tmp_path: Path) -> None:
    raw = bytes(range(128, 256))
    assert from_file(secret_file(tmp_path, raw + b"\n")) == raw
    with pytest.raises(ConfigurationError, match="OSCAL_AUTH_CACHE_SECRET"):  # inline, they are no text
        inline(raw.decode("utf-8", "surrogateescape"))  # os.environ's spelling of those bytes


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=st.text(min_size=1, max_size=80), ending=st.sampled_from(["", "\n", "\r\n", " \n", "\t"]))
def test_any_secret_is_the_same_bytes_inline_and_in_a_file_and_never_echoed(
    tmp_path: Path, secret: str, ending: str
) -> None:
    path = secret_file(tmp_path, secret.encode("utf-8") + ending.encode())
    outcomes = []
    for read in (lambda: inline(secret), lambda: from_file(path)):
        try:
            outcomes.append(read())
        except ConfigurationError as error:
            assert secret.strip() not in str(error) or len(secret.strip()) < 4, str(error)
            outcomes.append(None)
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize(
    ("mode", "who"), [(0o666, "its group and every user"), (0o620, "its group"), (0o602, "every user")]
)
def test_a_secret_file_others_may_write_is_refused_naming_the_file_and_the_chmod(
    tmp_path: Path, mode: int, who: str
) -> None:
    path = secret_file(tmp_path, SECRET.encode(), mode)
    with pytest.raises(ConfigurationError) as refused:
        from_file(path)
    message = str(refused.value)
    assert f"OSCAL_AUTH_CACHE_SECRET_FILE={str(path)!r} is writable by {who} (mode {mode:04o})" in message
    assert message.endswith(f"run: chmod 600 {path}")
    assert SECRET not in message


def test_a_secret_file_every_user_may_read_is_accepted_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = secret_file(tmp_path, SECRET.encode(), 0o644)
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        assert from_file(path) == SECRET.encode()
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "oscal_mcp_auth",
            "WARNING",
            f"OSCAL_AUTH_CACHE_SECRET_FILE={str(path)!r} is readable by every user (mode 0644); run: chmod 600 {path}",
        )
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"):
        assert from_file(secret_file(tmp_path, SECRET.encode(), 0o640)) == SECRET.encode()
    assert not caplog.text  # its group only: the operator's choice


def test_the_introspection_client_secret_file_is_held_to_the_same_rules(tmp_path: Path) -> None:
    def client_secret(mode: int, content: bytes = b"rs-secret \n") -> str:
        config = AuthConfig.from_mapping({
            "OSCAL_AUTH_VERIFIER": "introspection", "OSCAL_AUTH_ISSUER_URL": "https://as.example.com",
            "OSCAL_AUTH_RESOURCE_SERVER_URL": "https://mcp.example.com/mcp",
            "OSCAL_AUTH_INTROSPECTION_CLIENT_ID": "rs",
            "OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET_FILE": str(secret_file(tmp_path, content, mode)),
        })  # fmt: skip
        secret = introspection_settings(config).client_secret
        assert secret is not None
        return secret.get_secret_value()

    assert client_secret(0o600) == "rs-secret"  # stripped as an inline value is
    with pytest.raises(ConfigurationError, match=r"OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET_FILE=.* run: chmod 600"):
        client_secret(0o646)


def test_a_static_keys_file_others_may_write_is_refused_one_others_may_read_is_not(tmp_path: Path) -> None:
    path = secret_file(tmp_path, KEYS.encode(), 0o644)
    assert len(load_keys(path)) == 1  # hashes only: readable is fine
    path.chmod(0o664)
    with pytest.raises(ConfigurationError) as refused:
        load_keys(path)
    assert str(refused.value).endswith(f"run: chmod go-w {path}")


def test_a_path_with_spaces_gets_a_chmod_that_can_be_pasted(tmp_path: Path) -> None:
    path = tmp_path / "my secret"
    path.write_text(SECRET)
    path.chmod(0o666)
    with pytest.raises(ConfigurationError) as refused:
        check_permissions("OSCAL_AUTH_CACHE_SECRET_FILE", path, confidential=True)
    assert str(refused.value).endswith(f"run: chmod 600 '{path}'")


def test_a_real_process_refuses_a_world_writable_secret_file_with_exit_2_and_one_line(tmp_path: Path) -> None:
    path = secret_file(tmp_path, SECRET.encode(), 0o666)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    env = {**clean, "OSCAL_AUTH_ISSUER_URL": "https://as.example.com", "OSCAL_AUTH_CACHE_URL": "redis://127.0.0.1:1/0",
           "OSCAL_AUTH_CACHE_SECRET_FILE": str(path)}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "oscal_mcp", "--transport", "streamable-http"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert str(path) in result.stderr and f"chmod 600 {path}" in result.stderr
    assert SECRET not in result.stderr


def test_a_jwt_public_key_file_others_may_write_is_refused(tmp_path: Path) -> None:
    from oscal_mcp_auth.backends.jwt import create_verifier
    from tests.auth.keys import private_key
    from tests.e2e.as_fixture import public_pem

    path = secret_file(tmp_path, public_pem(private_key("rs-1")).encode(), 0o644)
    values = {"OSCAL_AUTH_ISSUER_URL": "https://as.example.com", "OSCAL_AUTH_RESOURCE_SERVER_URL": "https://m.example/mcp",
              "OSCAL_AUTH_JWT_PUBLIC_KEY": str(path)}  # fmt: skip
    assert create_verifier(AuthConfig.from_mapping(values))  # public: readable is fine
    path.chmod(0o646)
    with pytest.raises(ConfigurationError) as refused:
        create_verifier(AuthConfig.from_mapping(values))
    assert str(refused.value).startswith(f"OSCAL_AUTH_JWT_PUBLIC_KEY={str(path)!r} is writable by every user")
    assert str(refused.value).endswith(f"run: chmod go-w {path}")


def test_a_secret_file_that_cannot_be_read_is_named_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(ConfigurationError) as refused:
        read_secret_file("OSCAL_AUTH_CACHE_SECRET_FILE", missing)
    assert (
        str(refused.value) == f"OSCAL_AUTH_CACHE_SECRET_FILE={str(missing)!r} cannot be read: No such file or directory"
    )

    def failing(self: Path) -> bytes:
        raise PermissionError  # no reason given: the error's kind is named instead

    path = secret_file(tmp_path, SECRET.encode())
    monkeypatch.setattr(Path, "read_bytes", failing)
    with pytest.raises(ConfigurationError) as refused:
        read_secret_file("OSCAL_AUTH_CACHE_SECRET_FILE", path)
    assert str(refused.value) == f"OSCAL_AUTH_CACHE_SECRET_FILE={str(path)!r} cannot be read: PermissionError"


def test_an_inline_secret_that_is_no_text_is_refused_naming_the_setting_only() -> None:
    with pytest.raises(ConfigurationError) as refused:  # a lone surrogate no byte was escaped to
        secret_bytes("s3cret-\ud800", "OSCAL_AUTH_CACHE_SECRET")
    assert str(refused.value) == "OSCAL_AUTH_CACHE_SECRET holds characters that are not text; use a printable secret"
