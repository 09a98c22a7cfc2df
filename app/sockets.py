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
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from json import JSONDecodeError
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from adapters.sql.database import RequestDatabase
from app.socket_limits import TOO_MANY, SocketLimits
from app.socket_rights import SocketSignIn, as_of_now, one, refusal, signed_out
from app.trusted_documents import Refusal
from domains.kernel.errors import Unavailable
from schema.context import Context
from schema.shared_events import FANOUT_GATE

UNAUTHORIZED = 4401  # no token at all
FORBIDDEN = 4403  # a token, but not a valid one (or no longer: it expired while connected)
TRY_AGAIN_LATER = 1013  # the token could not be checked: the database is unavailable
MESSAGE_TOO_BIG = 1009


class TextFrames(ASGIWebSocketAdapter):
    """Every message is a text frame: both protocols say so, and the clients browsers run
    (graphql-ws, subscriptions-transport-ws) refuse binary ones. A message longer than an
    HTTP body may be closes the socket (1009) before it is parsed."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        cap: int = self.view.container.settings.max_body_bytes  # type: ignore[attr-defined]
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                if len(text) > cap:
                    await self.ws.close(code=MESSAGE_TOO_BIG, reason=f"messages are limited to {cap} bytes")
                    return
                try:
                    yield self.view.decode_json(text)
                except JSONDecodeError as e:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from e
        except KeyError as e:
            raise NonTextMessageReceived from e
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class SignedInSocket:
    """What both protocols' handlers share: the sign-in, its expiry, and per-operation contexts."""

    view: Any  # the GraphQLApp (app/graphql_view.py)
    context: Context
    websocket: Any
    connection_acknowledged: bool
    sign_in: SocketSignIn | None = None
    expiry_task: asyncio.Task[None] | None = None

    @property
    def limits(self) -> SocketLimits:
        limits: SocketLimits = self.view.container.socket_limits
        return limits

    async def guarded(self, handle: Callable[[], Awaitable[None]]) -> None:
        """Runs the protocol within the caps: sockets per address, the time to sign in."""
        client = self.websocket.ws.client
        address = client.host if client is not None else "unknown"
        if not self.limits.open_socket(address):
            await self.websocket.close(code=TOO_MANY, reason="too many sockets from this address")
            return
        unsigned = asyncio.create_task(self._close_unless_signed_in())
        try:
            await handle()
        finally:
            unsigned.cancel()
            if self.expiry_task is not None:
                self.expiry_task.cancel()
            self.limits.close_socket(address)
            if self.sign_in is not None:
                self.limits.sign_out(self.sign_in.user_id)

    async def _close_unless_signed_in(self) -> None:
        await asyncio.sleep(self.view.container.settings.socket_init_timeout_seconds)
        if not self.connection_acknowledged:
            with suppress(Exception):
                await self.websocket.close(code=4408, reason="Connection initialisation timeout")

    async def sign_in_or_refuse(self, params: dict[str, Any]) -> tuple[int, str] | None:
        """Signs the socket in; the close code and reason when it cannot be."""
        refusal, sign_in = await _authenticate_socket(self.view, self.context, params)
        if sign_in is None:
            return refusal
        if not self.limits.sign_in(sign_in.user_id):
            return TOO_MANY, "too many sockets for this user"
        self.sign_in = sign_in
        if sign_in.valid_until is not None:
            self.expiry_task = asyncio.create_task(self._close_at(sign_in.valid_until))
        return None

    async def _close_at(self, moment: datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))
        with suppress(Exception):
            await self.websocket.close(code=FORBIDDEN, reason="the token has expired")

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
        if not self.limits.start_operation(context.principal.user_id):
            cap = self.limits.operations_by_user.cap
            return one(refusal(f"at most {cap} operations may run at once on your sockets", "TOO_MANY_OPERATIONS"))
        context.request_state["counted_operation"] = context.principal.user_id
        context.request_state[FANOUT_GATE] = self.limits.fanout  # its events take turns with everyone's
        source: AsyncGenerator[Any, None] = await self.schema.stream(  # type: ignore[attr-defined]
            query,
            variable_values=variables,
            context_value=context,
            root_value=self.root_value,  # type: ignore[attr-defined]
            operation_name=operation_name,
        )
        return _refusals_answered(source)

    def as_of_now(self, context: Context, results: AsyncIterator[Any]) -> AsyncIterator[Any]:
        return as_of_now(results, context.principal, self.sign_in, self.view.container.principals)

    def finished(self, context: Context | None) -> None:
        if context is not None and "counted_operation" in context.request_state:
            self.limits.end_operation(context.request_state.pop("counted_operation"))


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

    async def handle(self) -> None:
        await self.guarded(super().handle)

    async def handle_subscribe(self, message: Any) -> None:
        """A known hash becomes its document; an unknown one (or, with TRUSTED_DOCUMENTS=only, a
        document outside the manifest) is this operation's error (app/trusted_documents.py)."""
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)
            return
        resolved = self.view.trusted.resolve(message.get("payload"))
        if isinstance(resolved, Refusal):
            error: Any = {"id": message["id"], "type": "error", "payload": [resolved.error()]}
            await self.send_message(error)
            return
        subscribe: Any = {**message, "payload": resolved}
        await super().handle_subscribe(subscribe)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """As the base class, but in the operation's own context, and as of now."""
        context = None
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
        finally:
            self.finished(context)


class LegacyWSHandler(SignedInSocket, BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol (older Apollo clients and tools), same rules."""

    async def handle(self) -> None:
        await self.guarded(super().handle)

    async def handle_start(self, message: Any) -> None:
        """Trusted documents as on graphql-transport-ws."""
        if not self.connection_acknowledged:
            await super().handle_start(message)
            return
        resolved = self.view.trusted.resolve(message.get("payload"))
        if isinstance(resolved, Refusal):
            error: Any = {"type": "error", "id": message["id"], "payload": resolved.error()}
            await self.send_message(error)
            return
        start: Any = {**message, "payload": resolved}
        await super().handle_start(start)

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
        context = None
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
            self.finished(context)
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)


async def _refusals_answered(source: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """A refusal raised before the operation ran (the schema's limits raise them, already
    coded) is its answer, as over HTTP, instead of ending the socket's task with a traceback."""
    started = False
    async with aclosing(source):
        try:
            async for result in source:
                started = True
                yield result
        except GraphQLError as error:
            if started:
                raise
            yield ExecutionResult(data=None, errors=[error])


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
        db = context.sql
        assert isinstance(db, RequestDatabase)
        try:
            context.principal, context.auth_error = await view.container.auth.principal(
                str(authorization), context.services["User"], caller=db
            )
        except Unavailable:
            return (TRY_AGAIN_LATER, "the database is unavailable right now; try again shortly"), None
        if context.principal is None and not context.auth_error:
            context.auth_error = "the token is not valid"
    else:
        authorization = context.request_state.get("authorization")
    if context.principal is not None:
        token = str(authorization).partition(" ")[2].strip()
        valid_until = view.container.verifier.valid_until(token)
        return None, SocketSignIn(str(authorization), context.principal.user_id, valid_until)
    if context.auth_error:
        return (FORBIDDEN, "Forbidden"), None
    return (UNAUTHORIZED, "Unauthorized"), None


def operation_request_id(connection: Context) -> str:
    return f"{connection.request_id}-{uuid.uuid4().hex[:8]}"
