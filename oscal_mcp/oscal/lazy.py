"""`Once`: a value built on first use, exactly once, whichever thread or task asks first."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from anyio import to_thread

T = TypeVar("T")


class Once(Generic[T]):
    """Builds its value with `build` on the first `get` (blocking) or `aget` (in a worker thread).

    Callers that arrive while it is being built wait for that build instead of starting another. A
    build that raises is not kept: the next caller tries again.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._value: T | None = None
        self._built = False

    @property
    def built(self) -> bool:
        return self._built

    def get(self) -> T:
        if not self._built:
            with self._lock:
                if not self._built:
                    self._value = self._build()
                    self._built = True
        return self._value  # type: ignore[return-value]

    async def aget(self) -> T:
        """The value; when it is not built yet, built in a worker thread so the event loop never waits on it."""
        if self._built:
            return self._value  # type: ignore[return-value]
        return await to_thread.run_sync(self.get)

    def reset(self) -> None:
        """Forget the value: the next caller builds it again (for content that changed on disk)."""
        with self._lock:
            self._built = False
            self._value = None
