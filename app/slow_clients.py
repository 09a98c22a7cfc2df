"""Cuts off clients that send their request too slowly, or never: uvicorn waits for headers
without any deadline, so a socket that sends nothing, or a header byte now and then, stayed
open for as long as its client liked (and a few thousand of them take every file descriptor).

The request line and headers must arrive within ``header_timeout`` of the connection (or of a
kept-alive connection's next request's first byte) and within ``max_header_bytes``; the body's
deadline is the request's (``RequestScope`` answers 408), and idle kept-alive connections
close after uvicorn's ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def guarded_http_protocol(header_timeout: float, max_header_bytes: int) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with a deadline and a size cap on each request's headers."""

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._header_deadline: asyncio.TimerHandle | None = None
            self._reading_headers = True
            self._header_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            # Counted once parsed: a chunk that ends the headers (with a body after them, or
            # an upgrade to WebSocket) is not a header's bytes.
            if self._reading_headers and not self.transport.is_closing():
                self._header_bytes += len(data)
                if self._header_bytes > max_header_bytes:
                    self._refuse(431, "Request Header Fields Too Large")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._reading_headers = True
            # Between requests uvicorn's keep-alive timeout applies; the next request's first
            # byte starts its own header deadline (the first request's runs from the connection).
            if self._header_deadline is None:
                self._arm()

        def on_headers_complete(self) -> None:
            self._reading_headers = False
            self._header_bytes = 0
            self._disarm()
            super().on_headers_complete()

        def _arm(self) -> None:
            self._disarm()
            self._header_deadline = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def _headers_too_slow(self) -> None:
            self._header_deadline = None
            if self.transport.is_closing() or not self._reading_headers:
                return
            if self._header_bytes == 0:
                self.transport.close()  # nothing was asked: nothing to answer
            else:
                self._refuse(408, "Request Timeout")

        def _refuse(self, status: int, reason: str) -> None:
            self._disarm()
            body = f"{reason}\n".encode()
            self.transport.write(
                f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                + body
            )
            self.transport.close()

    return GuardedHttpToolsProtocol
