"""Building the expensive, process-wide pieces ahead of the first call, in a background thread.

The first validation of a process otherwise pays for importing compliance-trestle's models (about
a second), compiling NIST's schemas and building the component index. `start` runs `warm_up` once
per process in a daemon thread, so a server that has been up for a moment answers its first call
as fast as its hundredth; a call that arrives earlier simply builds what it needs itself (every
piece is built once, whoever asks first).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from oscal_mcp.oscal import schemas
from oscal_mcp.oscal.models import MODELS, trestle_adapter

logger = logging.getLogger("oscal_mcp")

_started = threading.Event()


def warm_up(*extra: Callable[[], object]) -> None:
    """Build trestle's validators and compile every model's schema of every bundled release, then `extra`."""
    for model in MODELS:
        trestle_adapter(model.name)
    for version in reversed(schemas.bundled_versions()):  # the newest (the default) first
        for model in MODELS:
            schemas.validator(model.name, version)
    for build in extra:
        build()


def start(*extra: Callable[[], object]) -> threading.Thread | None:
    """Run `warm_up` in a daemon thread; only the first call in a process starts one."""
    if _started.is_set():
        thread = None
    else:
        _started.set()
        thread = threading.Thread(target=_run, args=extra, name="oscal-mcp-warm-up", daemon=True)
        thread.start()
    return thread


def _run(*extra: Callable[[], object]) -> None:
    try:
        warm_up(*extra)
    except Exception:  # never fatal: the first call builds what is missing and reports its own errors
        logger.warning("background warm-up failed; the first tool call will build what it needs", exc_info=True)
