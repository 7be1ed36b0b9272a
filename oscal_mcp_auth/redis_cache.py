"""A verification cache shared by several server replicas through Redis (extra ``redis``).

`TieredCache` keeps a bounded in-memory cache in front of Redis: a hit in memory costs nothing, a
miss asks Redis, and a result computed here is written to both. Every value carries its own
absolute expiry (and Redis expires the key at the same moment), so no entry outlives the token it
describes, on any replica.

When Redis is unreachable or slow, each operation gives up after a short timeout, the cache
carries on with memory alone (logged once per outage), and Redis is tried again after a pause.
A Redis failure is a cache miss, never an accepted token: the cache fails closed.

The Redis instance must be private to the deployment (password, TLS, network policy): whoever can
write to it can plant verification results and, through the shared JWKS document, signing keys,
which is as good as minting tokens.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from oscal_mcp_auth.cache import Codec, MemoryCache

logger = logging.getLogger("oscal_mcp_auth")

V = TypeVar("V")
OPERATION_TIMEOUT_SECONDS = 0.5
RETRY_AFTER_SECONDS = 5.0


class RedisStore:
    """JSON values under a key prefix with an absolute expiry; every failure is a logged miss."""

    def __init__(
        self,
        url: str,
        prefix: str,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = aioredis.Redis.from_url(
            url,
            socket_timeout=OPERATION_TIMEOUT_SECONDS,
            socket_connect_timeout=OPERATION_TIMEOUT_SECONDS,
            retry_on_timeout=False,
            health_check_interval=30,
        )
        self._prefix = prefix
        self._clock = clock
        self._monotonic = monotonic
        self._down_until = 0.0
        self._down = False

    async def get(self, key: str) -> tuple[Any, float] | None:
        """The stored JSON value and its remaining lifetime in seconds, or None."""
        if not self._available():
            return None
        try:
            raw = await self._client.get(self._prefix + key)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self._recovered()
        if raw is None:
            return None
        try:
            envelope = json.loads(raw)
            remaining = float(envelope["exp"]) - self._clock()
            value = envelope["v"]
        except (ValueError, KeyError, TypeError):
            logger.warning("shared cache entry %s is malformed; ignored", key[:16])
            return None
        return (value, remaining) if remaining > 0 else None

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        if ttl_seconds <= 0 or not self._available():
            return
        envelope = json.dumps({"exp": self._clock() + ttl_seconds, "v": value}, separators=(",", ":"))
        try:
            await self._client.set(self._prefix + key, envelope, px=max(1, int(ttl_seconds * 1000)))
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return
        self._recovered()

    async def delete(self, key: str) -> None:
        if not self._available():
            return
        try:
            await self._client.delete(self._prefix + key)
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _available(self) -> bool:
        return self._monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        self._down_until = self._monotonic() + RETRY_AFTER_SECONDS
        if not self._down:
            self._down = True
            logger.warning(
                "shared cache (redis) unreachable: %s; using the in-memory cache, retrying every %g s",
                type(exc).__name__,
                RETRY_AFTER_SECONDS,
            )

    def _recovered(self) -> None:
        if self._down:
            self._down = False
            logger.warning("shared cache (redis) reachable again")


class TieredCache(Generic[V]):
    """A `ResultCache`: memory first, then Redis, shared by every replica using the same prefix."""

    def __init__(self, local: MemoryCache[V], shared: RedisStore, codec: Codec[V]) -> None:
        self.local = local
        self.shared = shared
        self._codec = codec

    async def get(self, key: str) -> V | None:
        value = self.local.get_now(key)
        if value is not None:
            return value
        found = await self.shared.get(key)
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

    async def delete(self, key: str) -> None:
        await self.local.delete(key)
        await self.shared.delete(key)

    async def aclose(self) -> None:
        await self.shared.aclose()
