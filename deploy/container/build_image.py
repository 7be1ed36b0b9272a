"""Build the server image ``localhost/oscal-mcp:<version>`` with podman, without any image registry.

Run by ``make image`` and by the container end-to-end tests. Three steps:

1. **Base**: a Debian bookworm root filesystem from the Debian archive (``mmdebstrap --variant=minbase
   --include=python3,python3-venv,ca-certificates``) imported with ``podman import`` as
   ``localhost/oscal-mcp-base:<hash>``, the hash being that of the mmdebstrap command line.
2. **Wheels**: our wheel (``pip wheel``) and its dependencies with the ``auth``, ``redis`` and ``metrics`` extras
   for the image's Python (``pip download`` of manylinux x86_64 / aarch64 wheels for CPython 3.11).
3. **Image**: ``podman build --network=none`` of ``deploy/container/Containerfile`` from the base,
   installing only those wheels, labelled with the hash of its inputs (base, Containerfile, extras,
   our wheel).

A step whose result is already in podman's storage under the same hash is skipped, so a second run
costs the time of building our wheel (about 2 s). ``--rebuild`` builds both images again (e.g. to take
newer dependencies or Debian security updates). podman reads ``containers.conf`` and ``storage.conf``
from this directory (``CONTAINERS_CONF``, ``CONTAINERS_STORAGE_CONF``); /etc is left alone.

Prints the image reference on stdout; progress and timings go to stderr.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from wheel_closure import MARKER_ENVIRONMENT_SCRIPT, missing_requirements

HERE: Final = Path(__file__).resolve().parent
REPO: Final = HERE.parents[1]
CONTAINERFILE: Final = HERE / "Containerfile"
IMAGE_NAME: Final = "localhost/oscal-mcp"
BASE_NAME: Final = "localhost/oscal-mcp-base"
BASE_PACKAGES: Final = "python3,python3-venv,ca-certificates"
# Only for trying examples/deploy/kubernetes with podman kube play where no registry is reachable.
REDIS_NAME: Final = "localhost/oscal-mcp-redis"
REDIS_PACKAGES: Final = "redis-server"
INPUTS_LABEL: Final = "io.oscal-mcp.inputs-sha256"

DEBIAN_SUITE: Final = "bookworm"
DEBIAN_MIRROR: Final = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
# glibc of bookworm is 2.36: any manylinux wheel up to that runs on it.
MANYLINUX_VERSIONS: Final = ("2014", "2_17", "2_24", "2_28", "2_31", "2_34", "2_35", "2_36")
# Prometheus metrics (``metrics``) are off until OSCAL_MCP_METRICS_PORT is set, so an operator can turn
# them on by configuration alone.
EXTRAS: Final = "auth,redis,metrics"
# An imported root filesystem has no configuration: Debian's PATH, for commands run by name.
IMPORT_CHANGE: Final = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Documentation, manual pages and translations are of no use in a server image.
DPKG_EXCLUDES: Final = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
)


class BuildError(RuntimeError):
    """A step of the build failed; the message names the command and shows its output."""


def podman_environment() -> dict[str, str]:
    """The environment for every podman command: this directory's containers.conf and storage.conf."""
    return {
        **os.environ,
        "CONTAINERS_CONF": str(HERE / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(HERE / "storage.conf"),
    }


def log(message: str) -> None:
    print(f"make image: {message}", file=sys.stderr, flush=True)


def run(command: Sequence[str]) -> str:
    """Run `command` with podman's environment; its stdout, or BuildError with what it said."""
    result = subprocess.run(
        list(command),
        env=podman_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        said = result.stderr[-4000:] + result.stdout[-2000:]
        raise BuildError(f"{command[0]} failed (exit status {result.returncode}): {' '.join(command)}\n{said}")
    return result.stdout


def image_label(reference: str, label: str) -> str | None:
    """The value of `label` on a local image, or None when there is no such image (or label)."""
    result = subprocess.run(
        ["podman", "image", "inspect", "--format", f'{{{{index .Labels "{label}"}}}}', reference],
        env=podman_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    value = result.stdout.strip()
    return value if result.returncode == 0 and value not in ("", "<no value>") else None


def image_exists(reference: str) -> bool:
    return (
        subprocess.run(["podman", "image", "exists", reference], env=podman_environment(), check=False).returncode == 0
    )


def digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(hashlib.sha256(part).digest())
    return hasher.hexdigest()


def project_version() -> str:
    with (REPO / "pyproject.toml").open("rb") as file:
        version: str = tomllib.load(file)["project"]["version"]
    return version


def debian_architecture() -> str:
    machine = platform.machine()
    architectures = {"x86_64": "amd64", "aarch64": "arm64"}
    if machine not in architectures:
        raise BuildError(f"no image build for {machine}: only x86_64 and aarch64 hosts are supported")
    return architectures[machine]


def mmdebstrap_command(packages: str, target: Path) -> list[str]:
    return [
        "mmdebstrap",
        "--variant=minbase",
        f"--include={packages}",
        *(f"--dpkgopt={option}" for option in DPKG_EXCLUDES),
        f"--architectures={debian_architecture()}",
        DEBIAN_SUITE,
        str(target),
        DEBIAN_MIRROR,
    ]


def ensure_debian_image(name: str, packages: str, work: Path, rebuild: bool) -> str:
    """A Debian minbase image with `packages`, built unless one of the same mmdebstrap command exists."""
    command_hash = digest(" ".join(mmdebstrap_command(packages, Path("rootfs.tar"))).encode(), IMPORT_CHANGE.encode())
    reference = f"{name}:{DEBIAN_SUITE}-{command_hash[:16]}"
    if not rebuild and image_exists(reference):
        log(f"{reference}: cached")
        return reference
    started = time.monotonic()
    rootfs = work / "rootfs.tar"
    run(mmdebstrap_command(packages, rootfs))
    run(["podman", "import", "--quiet", "--change", IMPORT_CHANGE, str(rootfs), reference])
    rootfs.unlink()
    log(f"{reference}: built in {time.monotonic() - started:.0f} s")
    return reference


def run_to_end(arguments: Sequence[str], timeout: float = 120.0) -> str:
    """What a container printed, run detached and polled: a foreground ``podman run`` can wait 20 s
    for conmon after the container has ended on some hosts (podman 4.3 in a Firecracker VM)."""
    name = f"oscal-mcp-build-{os.getpid()}-{time.monotonic_ns()}"
    run(["podman", "run", "--detach", "--name", name, *arguments])
    try:
        deadline = time.monotonic() + timeout
        # "stopped": the process has ended, podman has not yet cleaned up; the exit code is known.
        while run(["podman", "inspect", "--format", "{{.State.Status}}", name]).strip() not in ("exited", "stopped"):
            if time.monotonic() > deadline:
                raise BuildError(f"container {' '.join(arguments)} still runs after {timeout:.0f} s")
            time.sleep(0.1)
        output = run(["podman", "logs", name])
        code = run(["podman", "inspect", "--format", "{{.State.ExitCode}}", name]).strip()
        if code != "0":
            raise BuildError(f"container {' '.join(arguments)} exited with {code}:\n{output[-2000:]}")
        return output
    finally:
        run(["podman", "rm", "--force", "--time", "0", name])


def build_wheel(wheels: Path) -> Path:
    """Our wheel, built from the working tree (hatchling builds are reproducible: same tree, same bytes)."""
    python = sys.executable
    run([python, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(REPO)])
    built = sorted(wheels.glob("oscal_mcp-*.whl"))
    if len(built) != 1:
        raise BuildError(f"expected one oscal_mcp wheel in {wheels}, found {[path.name for path in built]}")
    return built[0]


def marker_environment(base: str) -> dict[str, str]:
    """The PEP 508 marker variables of the base image's python3."""
    output = run_to_end(["--network=none", base, "python3", "-c", MARKER_ENVIRONMENT_SCRIPT])
    environment: dict[str, str] = json.loads(output)
    return environment


def pip_download(requirements: Sequence[str], wheels: Path, python_version: str) -> None:
    """Wheels of `requirements` and their dependencies for the image's CPython and glibc."""
    machine = platform.machine()
    platforms = [f"--platform=manylinux{v}_{machine}" if v == "2014" else f"--platform=manylinux_{v}_{machine}"
                 for v in MANYLINUX_VERSIONS]  # fmt: skip
    run([
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--implementation=cp", f"--python-version={python_version}", *platforms,
        "--dest", str(wheels), *requirements,
    ])  # fmt: skip


def download_dependencies(wheel: Path, wheels: Path, base: str) -> None:
    """Every dependency of our wheel with its extras, as the image's Python resolves them.

    pip judges environment markers by the host's interpreter (see wheel_closure.py): what the image's
    markers require besides is downloaded in further rounds.
    """
    environment = marker_environment(base)
    python_version = environment["python_full_version"]
    pip_download([f"{wheel}[{EXTRAS}]"], wheels, python_version)
    for _ in range(5):
        missing = missing_requirements(f"oscal-mcp[{EXTRAS}]", wheels, environment)
        if not missing:
            return
        log(f"for the image's Python {python_version} also: {', '.join(missing)}")
        pip_download(missing, wheels, python_version)
    raise BuildError(f"dependencies still missing after five rounds of pip download: {', '.join(missing)}")


def build_image(base: str, wheels: Path, reference: str, inputs: str, version: str) -> None:
    command = [
        # --no-cache: podman's layer cache keys a RUN step by its text, not by the wheels bind-mounted
        # into it, so it would reuse the layer of an older wheel; our own hash decides when to build.
        "podman", "build", "--quiet", "--no-cache", "--network=none", "--pull=never",
        "--file", str(CONTAINERFILE),
        "--build-arg", f"BASE_IMAGE={base}", "--build-arg", f"VERSION={version}", "--build-arg", f"EXTRAS={EXTRAS}",
        "--label", f"{INPUTS_LABEL}={inputs}",
        "--tag", reference,
        str(wheels.parent),
    ]  # fmt: skip
    run(command)


def image_size(reference: str) -> int:
    return int(run(["podman", "image", "inspect", "--format", "{{.Size}}", reference]).strip())


@contextmanager
def build_lock() -> Iterator[None]:
    """One build at a time per machine (make image and a test may start together)."""
    lock_path = Path(tempfile.gettempdir()) / "oscal-mcp-image-build.lock"
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield


def ensure_image(tag: str | None = None, rebuild: bool = False) -> str:
    """Build (or find cached) the server image; returns its reference."""
    for tool in ("podman", "mmdebstrap"):
        if shutil.which(tool) is None:
            raise BuildError(f"{tool} is missing: apt-get install podman mmdebstrap runc (or run make as root)")
    version = project_version()
    reference = f"{IMAGE_NAME}:{tag or version}"
    started = time.monotonic()
    with build_lock(), tempfile.TemporaryDirectory(prefix="oscal-mcp-image-", dir="/var/tmp") as temporary:
        work = Path(temporary)
        wheels = work / "context" / "wheels"
        wheels.mkdir(parents=True)
        base = ensure_debian_image(BASE_NAME, BASE_PACKAGES, work, rebuild)
        wheel = build_wheel(wheels)
        inputs = digest(base.encode(), CONTAINERFILE.read_bytes(), EXTRAS.encode(), wheel.read_bytes())
        if not rebuild and image_label(reference, INPUTS_LABEL) == inputs:
            log(f"{reference}: cached (inputs {inputs[:16]})")
        else:
            download_dependencies(wheel, wheels, base)
            build_image(base, wheels, reference, inputs, version)
            # The image this one replaces under the same tag: untagged now, of no further use.
            run(["podman", "image", "prune", "--force", "--filter", f"label={INPUTS_LABEL}"])
            log(f"{reference}: built (inputs {inputs[:16]})")
    size = image_size(reference)
    log(f"{reference}: {size / 1e6:.0f} MB, ready in {time.monotonic() - started:.1f} s")
    return reference


def ensure_redis_image(rebuild: bool = False) -> str:
    """A Redis image from Debian's redis-server package, for podman kube play without a registry."""
    with build_lock(), tempfile.TemporaryDirectory(prefix="oscal-mcp-image-", dir="/var/tmp") as temporary:
        return ensure_debian_image(REDIS_NAME, REDIS_PACKAGES, Path(temporary), rebuild)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tag", help="image tag (default: the project's version)")
    parser.add_argument("--rebuild", action="store_true", help="build the base and the image again")
    parser.add_argument(
        "--redis", action="store_true", help="build a Redis image instead (podman kube play of the Kubernetes example)"
    )
    arguments = parser.parse_args(argv)
    try:
        print(
            ensure_redis_image(arguments.rebuild) if arguments.redis else ensure_image(arguments.tag, arguments.rebuild)
        )
    except BuildError as error:
        print(f"make image: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
