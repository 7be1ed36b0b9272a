"""The tool tests' in-memory client fixture, shared with tests/tools."""

from tests.tools.conftest import connect

__all__ = ["connect"]
