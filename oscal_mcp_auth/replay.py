"""The DPoP replay cache: every accepted proof's ``jti``, kept while the proof would still be accepted.

RFC 9449 section 11.1: a server stores the ``jti`` of each proof for the time window in which
the proof would be accepted, and refuses a second use (``dpop_replay``). Entries are keyed by a
digest of the proof key's thumbprint and the ``jti`` (never a token) and live until the proof's
``iat`` plus the max age plus the leeway.

**Memory.** An LRU bounded to `max_entries` per process; the oldest entries, those nearest to
their expiry, go first. Replay protection thus holds as long as fewer than `max_entries` proofs
are accepted within one max-age window per process (100 000 in 300 s: over 300 requests a
second); the bound keeps memory flat under a flood.

**Shared (Redis, ``OSCAL_AUTH_CACHE_URL``).** Every replica asks Redis with ``SET NX`` (atomic),
so a proof used at one replica is refused at all others. Memory stays in front: a replay seen
here is refused without asking Redis.

**Redis down: fail closed.** While Redis cannot be asked, DPoP requests are refused with
``503`` (`ReplayCheckUnavailable`, reason ``replay_cache_unavailable``) rather than checked
against this replica's memory alone: an operator who configured a shared cache was promised
that a proof cannot be replayed at another replica, and a per-replica fallback would silently
break that promise for exactly the replicas an attacker picks. Bearer requests are unaffected.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from oscal_mcp_auth.cache import MemoryCache, SharedStore, shared_store
from oscal_mcp_auth.dpop import CheckedProof, InvalidProof
from oscal_mcp_auth.errors import AuthError
from oscal_mcp_auth.settings import AuthConfig

logger = logging.getLogger("oscal_mcp_auth")

DEFAULT_MAX_ENTRIES = 100_000
MIN_TTL_SECONDS = 1.0  # a proof accepted at the very end of its window is still remembered a moment


class ReplayCheckUnavailable(AuthError):
    """The shared replay cache could not be asked, so a proof's first use cannot be established."""


class ReplayCache:
    """The ``jti`` values of accepted proofs, in memory and, with `shared`, in Redis for every replica."""

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        shared: SharedStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seen: MemoryCache[bool] = MemoryCache(max_entries, clock)
        self._shared = shared

    def __len__(self) -> int:
        return len(self._seen)

    async def remember(self, proof: CheckedProof, ttl_seconds: float) -> None:
        """Record the first use of `proof`; `InvalidProof` (``dpop_replay``) if it was used before,
        `ReplayCheckUnavailable` if the shared store cannot tell."""
        key = proof.replay_key
        ttl = max(ttl_seconds, MIN_TTL_SECONDS)
        if self._seen.get_now(key) is not None:
            raise _replayed()
        if self._shared is not None:
            stored = await self._shared.add(key, 1, ttl)
            if stored is None:
                raise ReplayCheckUnavailable("the shared replay cache (redis) cannot be reached")
            self._seen.set_now(key, True, ttl)  # present from now on, whoever stored it first
            if not stored:
                raise _replayed()
            return
        self._seen.set_now(key, True, ttl)

    async def aclose(self) -> None:
        if self._shared is not None:
            await self._shared.aclose()


def replay_cache(config: AuthConfig) -> ReplayCache:
    """The replay cache of a deployment: shared through Redis when ``OSCAL_AUTH_CACHE_URL`` is set."""
    if config.cache_url is None:
        return ReplayCache()
    if config.dpop is not None:
        logger.info(
            "a used DPoP proof is remembered for %s + %s = %g s after its iat: give every replica the "
            "same values, or one with a longer window accepts a proof for longer than another remembers it",
            config.name_of("DPOP_MAX_AGE_SECONDS"),
            config.name_of("LEEWAY_SECONDS"),
            config.dpop.max_age_seconds + config.dpop.leeway_seconds,
        )
    return ReplayCache(shared=shared_store(config, "dpop-jti"))


def _replayed() -> InvalidProof:
    return InvalidProof("dpop_replay", "this proof's jti was used before (RFC 9449 section 11.1)")
