"""Every variable of dotenv.example with hostile values: a normal start, or exit status 2 with one
line on stderr naming the setting; never a traceback, never an echoed password.

In process through ``main([...])`` with the serving step replaced by what validates the rest of
the settings (building the verifier); a few real subprocess runs check the same from outside.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from oscal_mcp import launch
from oscal_mcp.cli import main
from oscal_mcp.config import Settings
from oscal_mcp_auth import load_verifier

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"^#?\s*(OSCAL_[A-Z0-9_]+)=", re.MULTILINE)
PASSWORD = "p4ssw0rd-never-echoed"
HOSTILE = (
    "",
    "   ",
    "garbage\x01\x1b[2J",
    "-1",
    "0",
    "9" * 400,
    "1,2",
    "https://a.example.com,https://b.example.com",
    f"https://user:{PASSWORD}@idp.example.com/x",
    f"redis://:{PASSWORD}@cache.example.com:6379/0",
    f"redis://cache.example.com/0?password={PASSWORD}",
    f"https://idp.example.com/x?client_secret={PASSWORD}#",
    f"unix:///run/redis.sock?db=0&token={PASSWORD}",
    "/nonexistent/oscal-mcp-fuzz/file.pem",
)
SECRET = "fuzz-cache-secret-of-at-least-32-bytes-long"


def dotenv_variables() -> list[str]:
    return sorted(set(VARIABLE.findall((ROOT / "dotenv.example").read_text(encoding="utf-8"))))


def context_for(name: str, keys_file: Path) -> dict[str, str]:
    """Settings around `name` that make it matter: streamable-http with the backend it belongs to."""
    base = {"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_AUTH_ISSUER_URL": "https://idp.example.com"}
    if name.startswith("OSCAL_AUTH_INTROSPECTION_"):
        base |= {
            "OSCAL_AUTH_VERIFIER": "introspection",
            "OSCAL_AUTH_INTROSPECTION_CLIENT_ID": "rs",
            "OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET": "rs-secret",
        }
    elif name.startswith("OSCAL_AUTH_STATIC_"):
        base |= {"OSCAL_AUTH_VERIFIER": "static", "OSCAL_AUTH_STATIC_KEYS_FILE": str(keys_file)}
    elif name.startswith("OSCAL_AUTH_CACHE_"):
        base |= {"OSCAL_AUTH_CACHE_URL": "redis://127.0.0.1:1/0", "OSCAL_AUTH_CACHE_SECRET": SECRET}
    if name == "OSCAL_AUTH_CACHE_SECRET_FILE":
        base.pop("OSCAL_AUTH_CACHE_SECRET")  # exactly one of the two
    base.pop(name, None)
    return base


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"client_id": "ci", "key_sha256": "a" * 64}]}))
    return path


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[Settings]]:
    """Replace serving with building the verifier (which validates the backend's settings)."""
    runs: list[Settings] = []

    def start(settings: Settings) -> None:
        if settings.auth_enabled:
            anyio.run(load_verifier(settings.auth).aclose)
        runs.append(settings)

    monkeypatch.setattr(launch, "run", start)
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in [n for n in os.environ if n.startswith("OSCAL_")]:
        monkeypatch.delenv(name)
    handlers = logging.getLogger().handlers[:]
    level = logging.getLogger().level
    yield runs
    logging.getLogger().handlers[:] = handlers  # main() pointed the root logger at captured stderr
    logging.getLogger().setLevel(level)


def test_dotenv_example_lists_the_settings_the_fuzz_walks() -> None:
    names = dotenv_variables()
    assert {"OSCAL_MCP_PORT", "OSCAL_AUTH_CACHE_SECRET_FILE", "OSCAL_AUTH_JWT_JWKS_MAX_STALE_SECONDS"} <= set(names)
    assert len(names) > 50


@pytest.mark.parametrize("name", dotenv_variables())
def test_every_setting_with_hostile_values_is_one_line_or_a_start(
    name: str,
    started: list[Settings],
    keys_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for value in HOSTILE:
        with monkeypatch.context() as env:
            for key, setting in {**context_for(name, keys_file), name: value}.items():
                env.setenv(key, setting)
            runs_before = len(started)
            status = main([])
            err = capsys.readouterr().err
        shown = f"{name}={value[:40]!r}"
        assert "Traceback" not in err, shown
        assert PASSWORD not in err, shown
        if status == 0:
            assert len(started) == runs_before + 1, shown
            continue
        assert status == 2, f"{shown}: exit status {status}"
        assert err.count("\n") == 1 and err.startswith("oscal-mcp: error: "), f"{shown}: {err!r}"
        assert name in err, f"{shown}: the error does not name the setting: {err!r}"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OSCAL_AUTH_ISSUER_URL": "https://a.example.com,b.example.com"}, "OSCAL_AUTH_ISSUER_URL"),
        ({"OSCAL_MCP_PORT": "9" * 400}, "OSCAL_MCP_PORT"),
        (
            {"OSCAL_AUTH_CACHE_URL": f"redis://:{PASSWORD}@127.0.0.1:1/0", "OSCAL_AUTH_CACHE_SECRET_FILE": "/nonexist"},
            "OSCAL_AUTH_CACHE_SECRET_FILE",
        ),
    ],
)
def test_a_real_process_exits_2_with_one_line(env: dict[str, str], named: str, tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    result = subprocess.run(
        [sys.executable, "-m", "oscal_mcp", "--transport", "streamable-http"],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and named in result.stderr, result.stderr
    assert PASSWORD not in result.stderr


@pytest.mark.parametrize(
    ("env", "named", "said"),
    [
        ({"OSCAL_AUTH_RESOURCE_SERVER_URL": "https://oscal.example.com/mcp#"}, "OSCAL_AUTH_RESOURCE_SERVER_URL", "#"),
        ({"OSCAL_AUTH_RESOURCE_SERVER_URL": "https://oscal.example.com/mcp#a"}, "OSCAL_AUTH_RESOURCE_SERVER_URL", "#"),
        ({"OSCAL_AUTH_ISSUER_URL": "https://idp.example.com/?tenant=a#"}, "OSCAL_AUTH_ISSUER_URL", "#"),
        ({"OSCAL_AUTH_ISSUER_URL": "https://idp.example.com/?tenant=a"}, "OSCAL_AUTH_ISSUER_URL", "query"),
        ({"OSCAL_AUTH_ISSUER_URL": "https://idp.example.com/x?"}, "OSCAL_AUTH_ISSUER_URL", "query"),
        ({"OSCAL_AUTH_ISSUER_URL": "https://a.example.com,https://b.example.com/#"}, "OSCAL_AUTH_ISSUER_URL", "#"),
    ],
)
def test_a_fragment_in_a_url_or_a_query_in_an_issuer_exits_2_with_one_line(
    env: dict[str, str], named: str, said: str, started: list[Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    """RFC 8707 section 2: a resource indicator has no fragment; RFC 8414 section 2: an issuer has
    neither query nor fragment (it would be published in the RFC 9728 metadata otherwise)."""
    base = {"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_AUTH_ISSUER_URL": "https://idp.example.com"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**base, **env}.items():
            patch.setenv(key, value)
        status = main([])
    err = capsys.readouterr().err
    assert status == 2 and not started, err
    assert err.count("\n") == 1 and named in err and said in err, err


@pytest.mark.parametrize(
    "env",
    [
        {"OSCAL_AUTH_CACHE_URL": f"redis://cache.example.com/0?password={PASSWORD}"},  # a valid URL, no secret
        {"OSCAL_AUTH_CACHE_URL": f"http://cache.example.com/0?password={PASSWORD}", "OSCAL_AUTH_CACHE_SECRET": SECRET},
        {"OSCAL_AUTH_ISSUER_URL": f"http://idp.example.com/?client_secret={PASSWORD}"},
        {"OSCAL_AUTH_ISSUER_URL": f"https://idp.example.com/?api_key={PASSWORD}"},
    ],
)
def test_a_secret_in_a_url_query_is_not_echoed_by_a_real_process(env: dict[str, str], tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OSCAL_")}
    result = subprocess.run(
        [sys.executable, "-m", "oscal_mcp", "--transport", "streamable-http"],
        env={**clean, "OSCAL_AUTH_ISSUER_URL": "https://idp.example.com", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "OSCAL_AUTH_" in result.stderr, result.stderr
    assert PASSWORD not in result.stderr
