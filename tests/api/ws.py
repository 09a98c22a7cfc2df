"""A small GraphQL-over-WebSocket client for the tests: both protocols, bounded waits."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
WAIT = 15.0


class Socket:
    def __init__(self, ws: Any, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self._next_id = 0

    @classmethod
    async def open(
        cls, base_url: str, token: str | None, *, protocol: str = TRANSPORT_WS, headers: dict[str, str] | None = None
    ) -> Socket:
        url = base_url.replace("http", "ws", 1) + "/graphql"
        ws = await websockets.connect(url, subprotocols=[protocol], additional_headers=headers or {})
        socket = cls(ws, protocol)
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await socket.send({"type": "connection_init", "payload": payload})
        return socket

    async def acknowledged(self) -> Socket:
        message = await self.receive()
        assert message["type"] == "connection_ack", message
        return self

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
            # graphql-ws and subscriptions-transport-ws (what browsers run) refuse binary frames
            assert isinstance(frame, str), f"a binary frame: {frame!r}"
            message: dict[str, Any] = json.loads(frame)
            if message["type"] not in ("ka", "ping", "pong"):
                return message

    async def start(self, query: str, variables: dict[str, Any] | None = None, id: str | None = None) -> str:
        if id is None:
            self._next_id += 1
            id = str(self._next_id)
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.send({"id": id, "type": kind, "payload": {"query": query, "variables": variables or {}}})
        return id

    async def next_payload(self, timeout: float = WAIT) -> tuple[str, dict[str, Any]]:
        """The next result (``next`` or legacy ``data``) with its operation id; completions pass."""
        message = await self.receive(timeout)
        while message["type"] == "complete":
            message = await self.receive(timeout)
        assert message["type"] in ("next", "data"), message
        return message["id"], message["payload"]

    async def stop(self, id: str) -> None:
        await self.send({"id": id, "type": "complete" if self.protocol == TRANSPORT_WS else "stop"})

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> Socket:
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.close()


async def close_code(socket: Socket, timeout: float = WAIT) -> int | None:
    """Waits for the server to close the socket; its close code."""
    try:
        while True:
            await asyncio.wait_for(socket.ws.recv(), timeout)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
