"""Readiness of the shared store: can Redis (``OSCAL_AUTH_CACHE_URL``) be asked right now?

A probe opens one connection, sends ``PING`` and closes it, within a short bound; it never reads
or writes a key. The answer is a status word, never the URL (it may carry a password).
"""

from __future__ import annotations

import anyio

PROBE_TIMEOUT_SECONDS = 2.0


class RedisProbe:
    """``await probe.check()``: None when Redis answers ``PING``, else ``unreachable``."""

    def __init__(self, url: str, timeout_seconds: float = PROBE_TIMEOUT_SECONDS) -> None:
        self._url = url
        self._timeout = timeout_seconds

    async def check(self) -> str | None:
        import redis.asyncio as aioredis  # the redis extra is installed whenever a cache URL is set

        client = aioredis.Redis.from_url(
            self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout, retry_on_timeout=False
        )
        try:
            with anyio.fail_after(self._timeout):
                await client.ping()
        except Exception:  # any failure means "not now"; the type may hold the URL, so it is not shown
            return "unreachable"
        finally:
            await client.aclose()
        return None
