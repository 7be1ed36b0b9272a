"""A `SharedStore` in Redis (extra ``redis``), for caches shared by several server replicas.

Every value carries its own absolute expiry (and Redis expires the key at the same moment), so no
entry outlives what it describes, on any replica.

Every entry is authenticated: it is stored as ``hex(HMAC-SHA256(secret, key name + payload))
|| payload``, under ``OSCAL_AUTH_CACHE_SECRET``. An entry that was edited, truncated, moved under
another key or planted by someone without the secret fails the check and is a miss: the replica
computes the answer itself. Such entries are counted (`unauthenticated_entries`) and logged once
per burst. The secret authenticates, it does not encrypt: a Redis reader still sees token hashes,
the cached identities and scopes, and when they were written; and a Redis writer can still delete
entries or put back an older authentic entry under its own key until that entry's expiry.

When Redis is unreachable or slow, each operation gives up after a short timeout, the caller
carries on without it (logged once per outage), and Redis is tried again after a pause. A Redis
failure is a miss, never an accepted token: the cache fails closed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from oscal_mcp_auth.telemetry.relay import current_telemetry

logger = logging.getLogger("oscal_mcp_auth")

OPERATION_TIMEOUT_SECONDS = 0.5
RETRY_AFTER_SECONDS = 5.0
BURST_QUIET_SECONDS = 60.0  # a burst of bad entries ends after this long without one
_MAC_CHARS = 2 * hashlib.sha256().digest_size  # hex: the stored value stays ASCII text


def seal(secret: bytes, key: str, payload: bytes) -> bytes:
    """The stored form of `payload` under the full Redis key name `key`."""
    return _mac(secret, key, payload) + payload


def unseal(secret: bytes, key: str, stored: bytes) -> bytes | None:
    """The payload, if `stored` was sealed under `key` with `secret`; None otherwise."""
    mac, payload = stored[:_MAC_CHARS], stored[_MAC_CHARS:]
    if len(mac) != _MAC_CHARS or not hmac.compare_digest(mac, _mac(secret, key, payload)):
        return None
    return payload


def _mac(secret: bytes, key: str, payload: bytes) -> bytes:
    name = key.encode()
    # the key name's length first, so no (key, payload) pair can pose as another by moving bytes
    return hmac.new(secret, len(name).to_bytes(4, "big") + name + payload, hashlib.sha256).hexdigest().encode()


class RedisStore:
    """Authenticated JSON values under a key prefix with an absolute expiry; failures are misses."""

    def __init__(
        self,
        url: str,
        prefix: str,
        secret: bytes,
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
        self._secret = secret
        self._clock = clock
        self._monotonic = monotonic
        self._down_until = 0.0
        self._down = False
        self._burst_until = 0.0
        self.unauthenticated_entries = 0
        self._telemetry = current_telemetry()

    async def get(self, key: str) -> tuple[Any, float] | None:
        """The stored JSON value and its remaining lifetime in seconds, or None."""
        if not self._available():
            return None
        name = self._prefix + key
        try:
            stored = await self._client.get(name)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self._recovered()
        if stored is None:
            return None
        payload = unseal(self._secret, name, stored if isinstance(stored, bytes) else stored.encode())
        if payload is None:
            self._unauthenticated(key)
            return None
        try:  # authentic, so written by a replica holding the secret; perhaps an older version
            envelope = json.loads(payload)
            remaining = float(envelope["exp"]) - self._clock()
            value = envelope["v"]
        except (ValueError, KeyError, TypeError):
            logger.warning("shared cache (redis) entry %s is malformed; ignored", key[:16])
            return None
        return (value, remaining) if remaining > 0 else None

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        await self._write(key, value, ttl_seconds, only_if_absent=False)

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool | None:
        """``SET NX PX``: True if stored, False if the key exists, None if Redis could not be asked.

        An existing entry counts as present even if it fails authentication: for a replay cache,
        doubt must mean "seen" (a Redis writer can deny service anyway, never grant it).
        """
        return await self._write(key, value, ttl_seconds, only_if_absent=True)

    async def _write(self, key: str, value: Any, ttl_seconds: float, *, only_if_absent: bool) -> bool | None:
        if ttl_seconds <= 0 or not self._available():
            return None
        name = self._prefix + key
        payload = json.dumps({"exp": self._clock() + ttl_seconds, "v": value}, separators=(",", ":")).encode()
        try:
            stored = await self._client.set(
                name, seal(self._secret, name, payload), px=max(1, int(ttl_seconds * 1000)), nx=only_if_absent
            )
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self._recovered()
        return bool(stored)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _unauthenticated(self, key: str) -> None:
        self.unauthenticated_entries += 1
        now = self._monotonic()
        if now >= self._burst_until:
            logger.warning(
                "shared cache (redis) entry %s is unauthenticated (edited, moved, planted or written with "
                "another OSCAL_AUTH_CACHE_SECRET); ignored. %d such entries so far; more in this burst are "
                "counted, not logged",
                key[:16],
                self.unauthenticated_entries,
            )
        self._burst_until = now + BURST_QUIET_SECONDS

    def _available(self) -> bool:
        return self._monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        self._telemetry.store_error("redis")
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
