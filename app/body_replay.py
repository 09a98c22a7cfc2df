"""A request body read ahead of the app, handed to it again.

The body cap (``app/request_scope.py``) and the compiled-first router (``app/compiled_first.py``)
read a body before the app behind them does; the app then reads it from here, once, and after
it the live channel (where the client's disconnect arrives)."""

from __future__ import annotations

from starlette.types import Message, Receive


def whole_body(body: bytes) -> Message:
    """The ASGI message that carries ``body`` as the complete request body."""
    return {"type": "http.request", "body": body, "more_body": False}


def replaying(first: Message, receive: Receive) -> Receive:
    """A receive channel that answers ``first``, then whatever ``receive`` answers."""
    pending: Message | None = first

    async def replay() -> Message:
        nonlocal pending
        if pending is not None:
            message, pending = pending, None
            return message
        return await receive()

    return replay
