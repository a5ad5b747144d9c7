"""The uvicorn server behind ``procure serve``: slow-client and connection limits, prompt graceful shutdown.

* A connection must finish sending its request headers within ``limits.header_timeout_s`` (uvicorn itself
  never times out a connection that sends nothing or trickles its headers); idle keep-alive connections
  close after ``limits.keep_alive_s``; bodies are timed by :class:`service.api.middleware.InputLimitMiddleware`.
* ``limits.max_connections`` bounds open connections and tasks (uvicorn answers 503 beyond it); keep it below
  the process's open-file limit.
* On SIGINT/SIGTERM every solve in flight is cancelled at once (CP-SAT ``stop_search``), so shutdown does not
  wait for long solves; requests still open after ``limits.graceful_shutdown_s`` are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.api.middleware import cancel_all
from service.settings import Settings

log = logging.getLogger("procure.server")


class GuardedH11Protocol(H11Protocol):
    """h11 protocol that closes connections whose request headers do not arrive in time."""

    header_timeout_s = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the header timer with the connection."""
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._expire)

    def _expire(self) -> None:
        self._header_timer = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            log.info("closing a connection that sent no complete request headers in %.0f s", self.header_timeout_s)
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        """Feed h11; while a request's headers are incomplete, keep the timer running."""
        super().data_received(data)
        if self._waiting_for_headers():
            self._arm()
        elif self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the timer."""
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)


class GracefulServer(uvicorn.Server):
    """Cancels in-flight work as soon as a shutdown signal arrives."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Cancel every solve, then let uvicorn drain."""
        cancelled = cancel_all("shutdown")
        if cancelled:
            log.info("shutdown: cancelled %d request(s) in flight", cancelled)
        super().handle_exit(sig, frame)


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    """Uvicorn settings derived from ``settings.limits``."""
    limits = settings.limits
    protocol = type("ProcureH11Protocol", (GuardedH11Protocol,), {"header_timeout_s": limits.header_timeout_s})
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol,
        log_level=settings.log_level,
        log_config=None,
        access_log=False,  # RequestContextMiddleware writes one JSON line per request
        timeout_keep_alive=int(limits.keep_alive_s),
        limit_concurrency=limits.max_connections,
        timeout_graceful_shutdown=limits.graceful_shutdown_s,
        h11_max_incomplete_event_size=16 * 1024,
        server_header=False,
    )


def run(app: Any, settings: Settings) -> None:
    """Serve ``app`` until a shutdown signal."""
    GracefulServer(server_config(app, settings)).run()
