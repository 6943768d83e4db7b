"""Connection guards uvicorn lacks, as its httptools protocol with two additions (``socialscore serve`` uses it).

uvicorn times out idle keep-alive connections (``timeout_keep_alive``) but not a request that never
finishes arriving, and it accepts every connection it is offered: 200 half-sent requests (slowloris)
stay open for ever, and 20,000 idle connections take 20,000 file descriptors. Here:

- the request line and headers must arrive within ``SOCIALSCORE_READ_TIMEOUT`` seconds of the
  connection opening (or of the request starting, on a kept-alive connection), else 408 and close;
  the body is bounded the same way in ``middleware.RequestMiddleware``;
- a worker holds at most ``SOCIALSCORE_MAX_CONNECTIONS`` connections: one more gets 503 and is closed
  at once, so the descriptors a worker uses stay bounded whatever a client opens.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from socialscore.api import metrics

PROTOCOL = "socialscore.api.connections:GuardedHttpToolsProtocol"  # uvicorn's ``http=`` setting

_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_FULL = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nretry-after: 1\r\nconnection: close\r\n\r\n"


@functools.cache
def limits() -> tuple[float, int]:
    """(read timeout in seconds, connections per worker) from the worker's settings."""
    from socialscore.api.settings import load_settings

    settings = load_settings()
    return settings.read_timeout, settings.max_connections


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a time bound on the request head and a connection cap."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timeout, self._max_connections = limits()
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn
        if len(self.server_state.connections) >= self._max_connections:
            self._refused = True
            metrics.CONNECTIONS_CLOSED.labels("over_limit").inc()
            transport.write(_FULL)
            transport.close()
            return
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if not self._refused:
            super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self._read_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            metrics.CONNECTIONS_CLOSED.labels("read_timeout").inc()
            self.transport.write(_TIMEOUT)
            self.transport.close()
