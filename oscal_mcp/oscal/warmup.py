"""Building the expensive, process-wide pieces ahead of the first call, in one background thread.

The first call of a process otherwise pays for importing compliance-trestle's models (about half a
second of CPU), compiling NIST's schemas and building the component index and the document store.
A `WarmUp` runs a fixed list of named steps, each a build that is kept once done (a `Once`, a
cache), in one daemon thread, once per process. A call that arrives earlier simply builds what it
needs itself, and a step that fails is logged and left to its first caller.

When it starts is the caller's business, and it matters: the thread holds the GIL for most of its
run, so it must not overlap start-up (the server's `initialize` and `tools/list` answers). The server
starts it over stdio after the first request that follows the handshake (the client's `tools/list`)
and over HTTP once the server is listening.

Bounded: the steps are known at start (every bundled release's schemas: compiling the second
costs about 35 ms and spares a 1.2.1 document's first validation that much); nothing here calls
the MCP SDK.

Once done, it moves every object alive to the collector's permanent generation (`gc.freeze`): what
it built lives as long as the process, and a full collection would otherwise walk all of it again
every few hundred requests (in bench/README.md, about 0.05-0.1 ms of CPU per request).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence

logger = logging.getLogger("oscal_mcp")

Step = tuple[str, Callable[[], object]]

_started = threading.Event()  # one warm-up per process: the pieces it builds are process-wide
_starting = threading.Lock()


def trestle_models() -> None:
    """compliance-trestle's model validators for every OSCAL model (the model level)."""
    from oscal_mcp.oscal.models import MODELS, trestle_adapter

    for model in MODELS:
        trestle_adapter(model.name)


def nist_schemas() -> None:
    """NIST's schemas of every bundled release, the newest (the default) first, for every model."""
    from oscal_mcp.oscal import schemas
    from oscal_mcp.oscal.models import MODELS

    for version in reversed(schemas.bundled_versions()):
        for model in MODELS:
            schemas.validator(model.name, version)


class WarmUp:
    """Runs `steps` in order, in a daemon thread, the first time any `WarmUp` of the process starts."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = tuple(steps)

    def run(self) -> dict[str, float]:
        """Every step, in order; returns the seconds each took (a failed step is logged and skipped)."""
        took: dict[str, float] = {}
        for name, build in self.steps:
            started = time.perf_counter()
            try:
                build()
            except Exception:  # never fatal: the first call builds what is missing and reports its own errors
                logger.warning("warm-up step %r failed; its first call will build it", name, exc_info=True)
                continue
            took[name] = time.perf_counter() - started
        logger.debug("warm-up done: %s", ", ".join(f"{name} {s * 1000:.0f} ms" for name, s in took.items()))
        return took

    def run_and_freeze(self) -> None:
        """`run`, then leave everything built so far out of the cyclic collector's full collections."""
        self.run()
        gc.freeze()

    def start(self) -> threading.Thread | None:
        """Run the steps in a daemon thread; only the first `start` in a process starts one."""
        with _starting:
            if _started.is_set():
                return None
            _started.set()
        thread = threading.Thread(target=self.run_and_freeze, name="oscal-mcp-warm-up", daemon=True)
        thread.start()
        return thread
