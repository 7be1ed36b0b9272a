"""Caching of verification results, shared by the backends and available to plugins.

Keys are SHA-256 digests of tokens (`cache_key`), never the tokens. Every entry carries its own
expiry and the cache has a bound, so memory stays flat under a flood of distinct tokens.
`SingleFlight` collapses concurrent work on one key into a single call.

With ``OSCAL_AUTH_CACHE_URL``, `TieredCache` keeps memory in front of a `SharedStore` (Redis, see
`redis_cache`, imported only then), whose entries are authenticated with ``OSCAL_AUTH_CACHE_SECRET``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from oscal_mcp_auth.config import AuthConfig
from oscal_mcp_auth.errors import ConfigurationError
from oscal_mcp_auth.telemetry.relay import current_telemetry
from oscal_mcp_auth.urls import canonical_resource_url

logger = logging.getLogger("oscal_mcp_auth")
V = TypeVar("V")
DEFAULT_MAX_ENTRIES = 10_000


def cache_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ResultCache(Protocol[V]):
    """The cache interface. `ttl_seconds <= 0` means: do not store."""

    async def get(self, key: str) -> V | None: ...

    async def set(self, key: str, value: V, ttl_seconds: float) -> None: ...

    async def add(self, key: str, value: V, ttl_seconds: float) -> bool:
        """Store `value` only if `key` has no live entry; True when it was absent. Atomic across
        replicas sharing a Redis (``SET NX``), e.g. to remember a one-time value such as a jti."""
        ...


class SharedStore(Protocol):
    """JSON documents shared between processes, each with its own expiry (see `redis_cache`).

    Every failure (unreachable, slow, an entry that fails authentication) is a miss, never an error.
    """

    async def get(self, key: str) -> tuple[Any, float] | None:
        """The value and its remaining lifetime in seconds, or None (absent, expired or failing)."""
        ...

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None: ...

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool | None:
        """Store only if `key` is absent: True if stored, False if present, None if the store
        could not be asked (the caller decides what an outage means)."""
        ...

    async def aclose(self) -> None: ...


class MemoryCache(Generic[V]):
    """A bounded LRU with a per-entry expiry, for one process."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._telemetry = current_telemetry()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> V | None:
        """A lookup as a backend's result cache (reported to telemetry; `get_now` is not)."""
        value = self.get_now(key)
        self._telemetry.cache_lookup("local", value is not None)
        return value

    def get_now(self, key: str) -> V | None:
        """`get` without an await, for hot paths that must not yield to the event loop."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: V, ttl_seconds: float) -> None:
        self.set_now(key, value, ttl_seconds)

    def set_now(self, key: str, value: V, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            self._entries.pop(key, None)
            return
        self._entries[key] = (self._clock() + ttl_seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def add(self, key: str, value: V, ttl_seconds: float) -> bool:
        return self.add_now(key, value, ttl_seconds)

    def add_now(self, key: str, value: V, ttl_seconds: float) -> bool:
        if self.get_now(key) is not None:
            return False
        self.set_now(key, value, ttl_seconds)
        return True


class Codec(Generic[V]):
    """How a cached value becomes JSON and back, for a cache shared between processes.

    The encoded form must never include a token or a secret.
    """

    def __init__(self, encode: Callable[[V], Any], decode: Callable[[Any], V]) -> None:
        self.encode = encode
        self.decode = decode


class TieredCache(Generic[V]):
    """A `ResultCache`: memory first, then the shared store, shared by every replica using it.

    A hit in memory costs nothing; a miss asks the shared store; a result computed here is written
    to both. When the shared store fails, memory carries on alone (see `redis_cache`).
    """

    def __init__(self, local: MemoryCache[V], shared: SharedStore, codec: Codec[V]) -> None:
        self.local = local
        self.shared = shared
        self._codec = codec
        self._telemetry = current_telemetry()

    async def get(self, key: str) -> V | None:
        value = self.local.get_now(key)
        self._telemetry.cache_lookup("local", value is not None)
        if value is not None:
            return value
        found = await self.shared.get(key)
        self._telemetry.cache_lookup("shared", found is not None)
        if found is None:
            return None
        raw, remaining = found
        try:
            value = self._codec.decode(raw)
        except Exception:
            logger.warning("shared cache entry %s could not be decoded; ignored", key[:16])
            return None
        self.local.set_now(key, value, remaining)
        return value

    async def set(self, key: str, value: V, ttl_seconds: float) -> None:
        self.local.set_now(key, value, ttl_seconds)
        await self.shared.set(key, self._codec.encode(value), ttl_seconds)

    async def add(self, key: str, value: V, ttl_seconds: float) -> bool:
        """Absent here and in the shared store; while the store is unreachable, here alone."""
        if self.local.get_now(key) is not None:
            return False
        stored = await self.shared.add(key, self._codec.encode(value), ttl_seconds)
        self.local.set_now(key, value, ttl_seconds)  # present from now on, whoever stored it
        return stored is not False

    async def aclose(self) -> None:
        await self.shared.aclose()


def result_cache(
    config: AuthConfig,
    namespace: str,
    max_entries: int,
    codec: Codec[V],
    *,
    policy: str = "",
    policy_settings: tuple[str, ...] = (),
) -> ResultCache[V]:
    """The cache a backend should use: in memory, or shared through Redis when
    ``OSCAL_AUTH_CACHE_URL`` is set (memory stays in front of it, and takes over when Redis fails).
    `policy` holds every setting that changes what a cached result means, `policy_settings` names
    them (see `shared_store`). A verification result also depends on the accepted issuers (as a
    set: their order changes nothing) and on the leeway its times were checked with."""
    local: MemoryCache[V] = MemoryCache(max_entries)
    if config.cache_url is None:
        return local
    issuers = " ".join(sorted(config.issuer_urls))
    meaning = f"{issuers}|{config.leeway_seconds}|{policy}"
    names = (config.name_of("ISSUER_URL"), config.name_of("LEEWAY_SECONDS"), *policy_settings)
    return TieredCache(local, shared_store(config, namespace, policy=meaning, policy_settings=names), codec)


def shared_store(
    config: AuthConfig, namespace: str, *, policy: str = "", policy_settings: tuple[str, ...] = ()
) -> SharedStore:
    """A Redis store whose keys are scoped to this resource and `policy` (the settings that change
    what an entry means: endpoint, client id, audience rules...), so deployments or rollouts
    sharing one Redis never read each other's. Nothing else enters the scope: replicas serving
    one resource URL (compared as URLs) with one secret share the namespace whatever order their
    issuers are listed in, and the DPoP replay cache (no `policy`) whatever their leeway. The
    scope is derived with the cache secret too, so replicas with different secrets simply do not
    share (rather than reading each other's entries as forgeries). The settings that scope the
    namespace (`policy_settings` names those in `policy`) are logged, with the key prefix, so
    replicas' logs can be compared."""
    if config.cache_url is None:
        raise ValueError("no OSCAL_AUTH_CACHE_URL configured")
    if config.cache_secret is None:
        raise ConfigurationError("OSCAL_AUTH_CACHE_URL needs OSCAL_AUTH_CACHE_SECRET (or OSCAL_AUTH_CACHE_SECRET_FILE)")
    try:
        from oscal_mcp_auth.redis_cache import RedisStore
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            "OSCAL_AUTH_CACHE_URL needs the Python package 'redis', which is not installed; "
            "install it with: pip install 'oscal-mcp[redis]'"
        ) from exc
    resource = canonical_resource_url(config.resource_server_url) if config.resource_server_url else ""
    scope = hmac.new(config.cache_secret, f"{resource}|{policy}".encode(), hashlib.sha256).hexdigest()[:16]
    prefix = f"oscal_mcp_auth:{namespace}:{scope}:"
    try:
        store = RedisStore(config.cache_url, prefix, config.cache_secret)
    except ValueError as exc:  # e.g. a port that is not a number; never echo the URL (password)
        raise ConfigurationError(f"OSCAL_AUTH_CACHE_URL is not usable: {type(exc).__name__}") from None
    logger.info(
        "shared cache %s: redis keys %s*, shared by the replicas that agree on %s and the cache secret",
        namespace,
        prefix,
        ", ".join((config.name_of("RESOURCE_SERVER_URL"), *policy_settings)),
    )
    return store


class SingleFlight(Generic[V]):
    """Concurrent callers with the same key share one execution of the work.

    The work runs in its own task, so a caller that is cancelled (a client that hangs up) does not
    cancel it for the others; the work itself must be bounded (every fetch here has a timeout).
    """

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        return len(self._inflight)

    def running(self, key: str) -> bool:
        return key in self._inflight

    async def run(self, key: str, work: Callable[[], Awaitable[V]]) -> V:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(work())
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    def _finished(self, key: str, task: asyncio.Task[V]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved, so an outcome nobody awaited is not reported as lost
