"""The outermost layer of the app, around every request and socket: its id, the body's cap and
deadline (413 REQUEST_TOO_LARGE, 408 REQUEST_TIMEOUT), its access-log line."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.body_replay import replaying, whole_body
from app.health import PROBE_PATHS

access_log = logging.getLogger("hrgraph.access")


class RequestScope:
    """Gives every request an id (kept from ``X-Request-ID`` when sent), caps bodies and the
    time they take to arrive, logs a line. With ``max_body_bytes`` None the body is left to
    the app to stream (and cap, and time)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int | None, body_timeout: float | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = _request_id(headers.get(b"x-request-id", b""))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 0
        app = self.app
        if scope["type"] == "http" and self.max_body_bytes is not None:
            try:
                # A body sent a byte at a time would hold the connection for as long as its client likes.
                async with asyncio.timeout(self.body_timeout):
                    first_message, body_finished = await self._read_capped_body(headers, receive)
            except TimeoutError:
                app = self._too_slow()
            else:
                if first_message is None:
                    app = self._too_large(body_finished)
                else:
                    receive = replaying(first_message, receive)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        except Exception:
            status = 500
            raise
        finally:
            if scope["path"] not in PROBE_PATHS:
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope.get("method", "WS"),
                        "path": scope["path"],
                        "operation": state.get("operation"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )

    async def _read_capped_body(self, headers: dict[bytes, bytes], receive: Receive) -> tuple[Message | None, bool]:
        """``(the whole body as one message, True)``, or ``(None, whether the client finished
        sending)`` once the body is known to exceed the cap.

        The declared length is only a first check: a chunked body has none, and a client may
        lie. So the body is counted while it streams in, and at most ``max_body_bytes`` are
        ever held, whatever the headers say. Past the cap up to as much again is read and
        dropped, so that a client slightly over it finishes sending and can read the 413
        (closing on unread data resets the connection, and the answer with it); beyond that
        reading stops and the connection is closed.
        """
        cap = self.max_body_bytes
        assert cap is not None
        try:
            declared = int(headers[b"content-length"]) if b"content-length" in headers else None
        except ValueError:
            return None, False
        if declared is not None and declared > 2 * cap:
            return None, False
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return (message, True) if size <= cap else (None, False)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= cap:
                chunks.append(chunk)
            else:
                chunks.clear()
            finished = not message.get("more_body", False)
            if size > cap and (finished or size > 2 * cap):
                return None, finished
            if finished:
                return whole_body(b"".join(chunks)), True

    def _too_large(self, body_finished: bool) -> ASGIApp:
        body = {
            "errors": [
                {
                    "message": f"request body too large: the limit is {self.max_body_bytes} bytes",
                    "extensions": {"code": "REQUEST_TOO_LARGE", "limit": self.max_body_bytes},
                }
            ]
        }
        # With the rest of the body still coming, closing is the only way to stop reading it.
        return JSONResponse(body, status_code=413, headers=None if body_finished else {"Connection": "close"})

    def _too_slow(self) -> ASGIApp:
        body = {
            "errors": [
                {
                    "message": f"the request body did not arrive within {self.body_timeout:g} seconds",
                    "extensions": {"code": "REQUEST_TIMEOUT", "limit": self.body_timeout},
                }
            ]
        }
        return JSONResponse(body, status_code=408, headers={"Connection": "close"})


_PRINTABLE_ASCII = re.compile(rb"[\x20-\x7e]+")


def _request_id(sent: bytes) -> str:
    """The client's id when it is printable ASCII (cut to 64 characters), else a fresh one: it
    goes into log lines and a response header, where other bytes could break or forge them."""
    sent = sent[:64]
    return sent.decode("ascii") if _PRINTABLE_ASCII.fullmatch(sent) else uuid.uuid4().hex
