"""How uvicorn serves the app: a deadline for request headers and explicit proxy trust.

uvicorn (0.55, h11) arms no timer while a connection has not sent a whole request head: a client
that opens sockets and never finishes its headers (or sends them a byte at a time) holds a file
descriptor each, forever, and enough of them starve everyone else. `header_deadline_protocol` is
uvicorn's own h11 protocol class (``uvicorn.run(http=...)`` takes a class) with one addition: a
connection that waits for a request head longer than ``OSCAL_MCP_HEADER_TIMEOUT_SECONDS`` (counted
from when it opened, or from the end of its previous answer) is closed. Bodies, long answers and
event streams are not affected: the deadline only runs while no request head is complete.

Proxy headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from the addresses
in ``OSCAL_MCP_FORWARDED_ALLOW_IPS`` (default loopback: the proxy of the README's recipe, which sets
both headers itself), passed to uvicorn explicitly so its defaults and its own
``FORWARDED_ALLOW_IPS`` environment variable play no part; an empty list turns them off.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger("oscal_mcp")


def header_deadline_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, closing connections whose request head is not complete in `seconds`."""

    class HeaderDeadlineProtocol(H11Protocol):
        _header_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm_header_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_header_deadline()  # the next request head is due now (keep-alive)

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_deadline()
            super().connection_lost(exc)

        def _arm_header_deadline(self) -> None:
            self._cancel_header_deadline()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._header_deadline = self.loop.call_later(seconds, self._header_deadline_passed)

        def _cancel_header_deadline(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def _header_deadline_passed(self) -> None:
            self._header_deadline = None
            # IDLE: h11 has not seen a whole request head since the deadline was armed
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                logger.debug(
                    "closing a connection from %s: no complete request head within %g s "
                    "(OSCAL_MCP_HEADER_TIMEOUT_SECONDS)",
                    self.client,
                    seconds,
                )
                self.transport.close()

    return HeaderDeadlineProtocol


def uvicorn_options(*, header_timeout_seconds: float, forwarded_allow_ips: tuple[str, ...]) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.run`` that carry these two settings."""
    return {
        "http": header_deadline_protocol(header_timeout_seconds),
        "proxy_headers": bool(forwarded_allow_ips),
        "forwarded_allow_ips": ",".join(forwarded_allow_ips),
    }
