"""Fakes the JWKS cache tests share: a settable clock and a shared store holding a published key set."""

from __future__ import annotations

from typing import Any


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Published:
    """A shared store holding one key set another replica published (the interface of `SharedStore`)."""

    def __init__(self, document: Any, remaining: float = 200.0) -> None:
        self.document, self.remaining = document, remaining
        self.written: list[tuple[str, Any, float]] = []

    async def get(self, key: str) -> tuple[Any, float] | None:
        return (self.document, self.remaining) if self.document is not None else None

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        self.written.append((key, value, ttl_seconds))
        self.document = value

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool | None:
        raise AssertionError("the JWKS cache never adds")

    async def aclose(self) -> None:
        return None
