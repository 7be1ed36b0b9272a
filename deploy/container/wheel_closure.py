"""Which requirements a directory of wheels still lacks, judged by another Python's environment markers.

``pip download --python-version`` chooses wheels for the image's Python, but evaluates environment
markers with the host's interpreter: a host on CPython 3.11.7 skips ``async-timeout;
python_full_version < "3.11.3"`` that bookworm's 3.11.2 needs, and a host on 3.13 skips every
``python_version < "3.12"`` backport. This module walks the requirement graph through the wheels'
own metadata with the image's marker environment (PEP 508) and names what is missing, so that the
build can download it before installing offline.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping
from email.parser import Parser
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError as error:  # pragma: no cover - the build venv (make setup) has it
    raise SystemExit(
        "make image needs the Python package 'packaging' in the venv that runs it: pip install packaging"
    ) from error

# Printed as JSON by the image's python3: the marker variables of PEP 508, standard library only.
MARKER_ENVIRONMENT_SCRIPT = """
import json, os, platform, sys
info = sys.implementation.version
version = f"{info.major}.{info.minor}.{info.micro}"
if info.releaselevel != "final":
    version += info.releaselevel[0] + str(info.serial)
print(json.dumps({
    "implementation_name": sys.implementation.name,
    "implementation_version": version,
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}))
"""


def wheel_requirements(wheels: Path) -> dict[str, list[Requirement]]:
    """Each wheel's distribution name (canonical) and its ``Requires-Dist`` entries."""
    found: dict[str, list[Requirement]] = {}
    for wheel in wheels.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            metadata = Parser().parsestr(archive.read(name).decode("utf-8"))
        requires = [Requirement(line) for line in metadata.get_all("Requires-Dist") or []]
        found[canonicalize_name(metadata["Name"])] = requires
    return found


def _applies(requirement: Requirement, extras: Iterable[str], environment: Mapping[str, str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in ("", *extras))


def missing_requirements(root: str, wheels: Path, environment: Mapping[str, str]) -> list[str]:
    """Requirements reachable from `root` under `environment` that no wheel in `wheels` provides."""
    available = wheel_requirements(wheels)
    missing: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    queue = [Requirement(root)]
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        if name not in available:
            missing.setdefault(name, str(Requirement(f"{requirement.name}{requirement.specifier}")))
            continue
        queue += [dep for dep in available[name] if _applies(dep, requirement.extras, environment)]
    return sorted(missing.values())
