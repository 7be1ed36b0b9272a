from __future__ import annotations

from pathlib import Path

import pytest

from tests.packaging.artifacts import build_artifacts


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_artifacts(tmp_path_factory.mktemp("dist"))
