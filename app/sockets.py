"""GraphQL over WebSocket, both protocols: graphql-transport-ws (graphql-ws, GraphiQL, urql,
Apollo's GraphQLWsLink) and the legacy graphql-ws (subscriptions-transport-ws).

A socket signs in with ``connection_init`` and is closed before any data unless its token
holds. From then on its rights are checked as of now (``app/socket_rights.py``): each
operation signs in again and runs in a context of its own (own session and transaction), each
subscription event is sent only while the subscriber's rights still hold, and the socket
closes when its token expires.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from app.socket_rights import SocketSignIn, as_of_now, signed_out
from domains.kernel.errors import Unavailable
from schema.context import Context

UNAUTHORIZED = 4401  # no token at all
FORBIDDEN = 4403  # a token, but not a valid one (or no longer: it expired while connected)
TRY_AGAIN_LATER = 1013  # the token could not be checked: the database is unavailable


class TextFrames(ASGIWebSocketAdapter):
    """Every message is a text frame: both protocols say so, and the clients browsers run
    (graphql-ws, subscriptions-transport-ws) refuse binary ones."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class SignedInSocket:
    """What both protocols' handlers share: the sign-in, its expiry, and per-operation contexts."""

    view: Any  # the GraphQLApp (app/http.py)
    context: Context
    websocket: Any
    sign_in: SocketSignIn | None = None
    expiry_task: asyncio.Task[None] | None = None

    async def sign_in_or_refuse(self, params: dict[str, Any]) -> tuple[int, str] | None:
        """Signs the socket in; the close code and reason when it cannot be."""
        refusal, self.sign_in = await _authenticate_socket(self.view, self.context, params)
        if refusal is None and self.sign_in is not None and self.sign_in.valid_until is not None:
            self.expiry_task = asyncio.create_task(self._close_at(self.sign_in.valid_until))
        return refusal

    async def _close_at(self, moment: datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))
        with suppress(Exception):
            await self.websocket.close(code=FORBIDDEN, reason="the token has expired")

    def stop_expiry(self) -> None:
        if self.expiry_task is not None:
            self.expiry_task.cancel()

    async def operation(self) -> Context:
        """One operation's context, signed in again now with the socket's token."""
        context: Context = await self.view.operation_context(self.context, self.sign_in)
        return context

    async def stream(
        self, context: Context, query: str, variables: dict[str, object] | None, operation_name: str | None
    ) -> AsyncGenerator[Any, None]:
        """The operation's results; for a socket whose user is gone, the one answer HTTP gives."""
        if context.principal is None:
            return signed_out(context)
        source: AsyncGenerator[Any, None] = await self.schema.stream(  # type: ignore[attr-defined]
            query,
            variable_values=variables,
            context_value=context,
            root_value=self.root_value,  # type: ignore[attr-defined]
            operation_name=operation_name,
        )
        return source

    def as_of_now(self, context: Context, results: AsyncIterator[Any]) -> AsyncIterator[Any]:
        return as_of_now(results, context.principal, self.sign_in, self.view.container.principals)


class TransportWSHandler(SignedInSocket, BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws: the socket closes (4401/4403) before any data unless a token holds."""

    async def handle_connection_init(self, message: Any) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.websocket.close(code=4400, reason="Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self.connection_init_received = True
        refusal = await self.sign_in_or_refuse(payload)
        if refusal is not None:
            await self.websocket.close(code=refusal[0], reason=refusal[1])
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """As the base class, but in the operation's own context, and as of now."""
        try:
            context = await self.operation()
            result_source = await self.stream(context, operation.query, operation.variables, operation.operation_name)
            async with aclosing(result_source):
                await self._send_result_stream(operation, self.as_of_now(context, result_source))  # type: ignore[arg-type]
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def shutdown(self) -> None:
        self.stop_expiry()
        await super().shutdown()


class LegacyWSHandler(SignedInSocket, BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol (older Apollo clients and tools), same rules."""

    async def handle_connection_init(self, message: Any) -> None:
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.send_message({"type": "connection_error"})
            await self.websocket.close(code=1000, reason="")
            return
        refusal = await self.sign_in_or_refuse(payload)
        if refusal is not None:
            await self.send_message({"type": "connection_error", "payload": {"message": refusal[1]}})
            await self.websocket.close(code=refusal[0], reason=refusal[1])
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())

    async def handle_async_results(
        self, operation_id: str, query: str, operation_name: str | None, variables: dict[str, object] | None
    ) -> None:
        """As the base class, but through ``Schema.stream`` (legacy clients, Apollo's
        subscriptions-transport-ws, also send queries and mutations over the socket), in the
        operation's own context, and as of now."""
        try:
            context = await self.operation()
            source = await self.stream(context, query, variables, operation_name)
            self.subscriptions[operation_id] = source
            first = True
            async with aclosing(source):
                async for result in self.as_of_now(context, source):
                    if first and isinstance(result, PreExecutionError):
                        assert result.errors
                        error = {"type": "error", "id": operation_id, "payload": result.errors[0].formatted}
                        await self.send_message(error)  # type: ignore[arg-type]
                        return
                    await self.send_data_message(result, operation_id)
                    first = False
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

    async def cleanup(self) -> None:
        self.stop_expiry()
        await super().cleanup()


async def _authenticate_socket(
    view: Any, context: Context, params: dict[str, Any]
) -> tuple[tuple[int, str] | None, SocketSignIn | None]:
    """Browsers cannot set headers on a WebSocket: the token may come in connection_init, else
    in the handshake's Authorization header. Returns the close code and reason, or the sign-in."""
    context.connection_params = params
    if context.auth_failure is not None:
        return (TRY_AGAIN_LATER, "the database is unavailable right now; try again shortly"), None
    authorization = params.get("Authorization") or params.get("authorization")
    if authorization:
        try:
            context.principal, context.auth_error = await view.container.authenticate(
                str(authorization), context.services
            )
        except Unavailable:
            return (TRY_AGAIN_LATER, "the database is unavailable right now; try again shortly"), None
        if context.principal is None and not context.auth_error:
            context.auth_error = "the token is not valid"
    else:
        authorization = context.request_state.get("authorization")
    if context.principal is not None:
        token = str(authorization).partition(" ")[2].strip()
        return None, SocketSignIn(str(authorization), view.container.verifier.valid_until(token))
    if context.auth_error:
        return (FORBIDDEN, "Forbidden"), None
    return (UNAUTHORIZED, "Unauthorized"), None


def operation_request_id(connection: Context) -> str:
    return f"{connection.request_id}-{uuid.uuid4().hex[:8]}"
