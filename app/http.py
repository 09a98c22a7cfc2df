"""The Starlette app: /graphql (HTTP, GraphiQL, WebSocket), /healthz, /readyz."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.execution import PreExecutionError

from adapters.blobs.local import DOWNLOAD_PATH, FORM_OVERHEAD, UPLOAD_PATH, LocalBlobStore, Refused
from app.wiring import Container
from domains.document.model import KIND_RULES
from schema.context import Context

access_log = logging.getLogger("hrgraph.access")


class RequestScope:
    """Gives every request an id (kept from ``X-Request-ID`` when sent), caps bodies, logs a line."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode()[:64] or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 0
        app = self.app if self._body_fits(headers) else _TOO_LARGE

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
            if scope["path"] not in ("/healthz", "/readyz"):
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

    def _body_fits(self, headers: dict[bytes, bytes]) -> bool:
        """Refused on the declared length, before a byte of the body is read."""
        try:
            return int(headers.get(b"content-length", b"0") or 0) <= self.max_body_bytes
        except ValueError:
            return False


_TOO_LARGE = JSONResponse({"errors": [{"message": "request body too large"}]}, status_code=413)


UNAUTHORIZED = 4401  # no token at all
FORBIDDEN = 4403  # a token, but not a valid one


class _TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
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
        refusal = _authenticate_socket(self.view, self.context, payload)
        if refusal is not None:
            await self.websocket.close(code=refusal[0], reason=refusal[1])
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True


class _LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol (older Apollo clients and tools), same rule for tokens."""

    async def handle_connection_init(self, message: Any) -> None:
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.send_message({"type": "connection_error"})
            await self.websocket.close(code=1000, reason="")
            return
        refusal = _authenticate_socket(self.view, self.context, payload)
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
        """As the base class, but through ``Schema.stream``: legacy clients (Apollo's
        subscriptions-transport-ws) also send queries and mutations over the socket."""
        try:
            source = await self.schema.stream(
                query, variable_values=variables, context_value=self.context, operation_name=operation_name
            )
            self.subscriptions[operation_id] = source
            first = True
            async for result in source:
                if first and isinstance(result, PreExecutionError):
                    assert result.errors
                    error = {"type": "error", "id": operation_id, "payload": result.errors[0].formatted}
                    await self.send_message(error)  # type: ignore[arg-type]
                    return
                await self.send_data_message(result, operation_id)  # type: ignore[arg-type]
                first = False
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)


def _authenticate_socket(view: Any, context: Context, params: dict[str, Any]) -> tuple[int, str] | None:
    """Browsers cannot set headers on a WebSocket: the token may come in connection_init, else
    in the handshake's Authorization header. Returns the close code and reason, or None."""
    context.connection_params = params
    authorization = params.get("Authorization") or params.get("authorization")
    if authorization:
        context.principal, context.auth_error = view.container.authenticate(str(authorization))
        if context.principal is None and not context.auth_error:
            context.auth_error = "the token is not valid"
    if context.principal is not None:
        return None
    if context.auth_error:
        return FORBIDDEN, "Forbidden"
    return UNAUTHORIZED, "Unauthorized"


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = _TransportWSHandler
    graphql_ws_handler_class = _LegacyWSHandler

    def __init__(self, container: Container) -> None:
        super().__init__(
            container.schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        )
        self.container = container

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        state = request.scope.setdefault("state", {})
        request_id = state.get("request_id") or uuid.uuid4().hex
        context = self.container.context(
            request_id=request_id, authorization=request.headers.get("authorization"), state=state
        )
        if isinstance(request, WebSocket):
            context.operation_context = self._operation_context
        return context

    def _operation_context(self, connection: Context) -> Context:
        """One operation on a socket: its own session and transaction, the socket's principal."""
        context = self.container.context(
            request_id=f"{connection.request_id}-{uuid.uuid4().hex[:8]}",
            authorization=None,
            state={},
        )
        context.principal = connection.principal
        context.connection_params = connection.connection_params
        return context


async def stop_parts(container: Container) -> None:
    """After uvicorn has closed the sockets (1012) and drained: the feed, then the pool, bounded."""
    try:
        async with asyncio.timeout(max(1.0, container.settings.shutdown_timeout_seconds / 2)):
            await container.events.stop()
            await container.engine.dispose()
    except TimeoutError:
        logging.getLogger("hrgraph").warning("shutdown: the event feed or the pool did not stop in time")


def create_app(container: Container) -> ASGIApp:
    graphql = GraphQLApp(container)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        try:
            async with asyncio.timeout(2):
                async with container.engine.connect() as conn:
                    await conn.execute(sa.text("SELECT 1"))
        except Exception as error:  # any failure means: do not send traffic here
            return JSONResponse({"status": "unavailable", "reason": type(error).__name__}, status_code=503)
        return JSONResponse({"status": "ready"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await container.events.start()
        yield
        await stop_parts(container)

    blob_routes = local_blob_routes(container.blobs) if isinstance(container.blobs, LocalBlobStore) else []
    starlette = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *blob_routes,
        ],
        lifespan=lifespan,
    )
    app = RequestScope(starlette, container.settings.max_body_bytes)
    if not blob_routes:
        return app
    # A file is larger than any GraphQL request: uploads get their own cap, the kinds' largest.
    uploads = RequestScope(starlette, MAX_UPLOAD_BODY)

    async def route_uploads(scope: Scope, receive: Receive, send: Send) -> None:
        await (uploads if scope.get("path") == UPLOAD_PATH else app)(scope, receive, send)

    return route_uploads


MAX_UPLOAD_BODY = max(rule.max_bytes for rule in KIND_RULES.values()) + FORM_OVERHEAD


def local_blob_routes(store: LocalBlobStore) -> list[Route]:
    """The embedded store's presigned upload (a multipart POST, as to S3) and signed download."""

    def refused(error: Refused) -> Response:
        return JSONResponse({"error": error.message}, status_code=error.status)

    async def upload(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_UPLOAD_BODY:  # a body without Content-Length is capped here
                return refused(Refused(413, "the upload is too large"))
        try:
            await store.accept_upload(request.headers.get("content-type", ""), bytes(body))
        except Refused as error:
            return refused(error)
        return Response(status_code=204)

    async def download(request: Request) -> Response:
        try:
            found = store.open_download(request.query_params)
        except Refused as error:
            return refused(error)
        return FileResponse(found.path, media_type=found.content_type, filename=found.file_name)

    return [Route(UPLOAD_PATH, upload, methods=["POST"]), Route(DOWNLOAD_PATH, download, methods=["GET"])]
