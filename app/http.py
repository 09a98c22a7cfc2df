"""The Starlette app: /graphql (HTTP, GraphiQL, WebSocket), /healthz, /readyz."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET

from adapters.blobs.local import DOWNLOAD_PATH, FORM_OVERHEAD, UPLOAD_PATH, LocalBlobStore, Refused
from app.compiled_reads import CompiledReads
from app.wiring import Container
from domains.document.model import KIND_RULES
from domains.kernel.errors import Unavailable
from schema.context import Context

# GraphiQL's page and the pinned assets it loads (frontend/vendor-graphiql.mjs): no CDN.
STATIC = Path(__file__).resolve().parent / "static"
access_log = logging.getLogger("hrgraph.access")


class RequestScope:
    """Gives every request an id (kept from ``X-Request-ID`` when sent), caps bodies and the
    time they take to arrive, logs a line."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout: float | None = None) -> None:
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
        if scope["type"] == "http":
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
                    receive = _replaying(first_message, receive)

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
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}, True

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


def _replaying(first_message: Message, receive: Receive) -> Receive:
    """Hands the app the body already read, then the live channel (for the disconnect)."""
    pending: Message | None = first_message

    async def replay() -> Message:
        nonlocal pending
        if pending is not None:
            message, pending = pending, None
            return message
        return await receive()

    return replay


UNAUTHORIZED = 4401  # no token at all
FORBIDDEN = 4403  # a token, but not a valid one
TRY_AGAIN_LATER = 1013  # the token could not be checked: the database is unavailable


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
        refusal = await _authenticate_socket(self.view, self.context, payload)
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
        refusal = await _authenticate_socket(self.view, self.context, payload)
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


async def _authenticate_socket(view: Any, context: Context, params: dict[str, Any]) -> tuple[int, str] | None:
    """Browsers cannot set headers on a WebSocket: the token may come in connection_init, else
    in the handshake's Authorization header. Returns the close code and reason, or None."""
    context.connection_params = params
    if context.auth_failure is not None:
        return TRY_AGAIN_LATER, "the database is unavailable right now; try again shortly"
    authorization = params.get("Authorization") or params.get("authorization")
    if authorization:
        try:
            context.principal, context.auth_error = await view.container.authenticate(
                str(authorization), context.services
            )
        except Unavailable:
            return TRY_AGAIN_LATER, "the database is unavailable right now; try again shortly"
        if context.principal is None and not context.auth_error:
            context.auth_error = "the token is not valid"
    if context.principal is not None:
        return None
    if context.auth_error:
        return FORBIDDEN, "Forbidden"
    return UNAUTHORIZED, "Unauthorized"


class _TextFrames(ASGIWebSocketAdapter):
    """Every GraphQL-over-WebSocket message is a text frame: both protocols say so, and the
    clients browsers run (graphql-ws, subscriptions-transport-ws) refuse binary ones."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = _TransportWSHandler
    graphql_ws_handler_class = _LegacyWSHandler
    websocket_adapter_class = _TextFrames

    def __init__(self, container: Container) -> None:
        super().__init__(
            container.schema,
            graphql_ide="graphiql" if container.settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        )
        self.container = container

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse((STATIC / "graphiql.html").read_text())

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        state = request.scope.setdefault("state", {})
        context = await self.container.context(
            request_id=state.get("request_id") or uuid.uuid4().hex,
            authorization=request.headers.get("authorization"),
            state=state,
        )
        if isinstance(request, WebSocket):
            context.operation_context = self._operation_context
        return context

    # GraphQL over HTTP: a client that accepts application/graphql-response+json gets it, with
    # 4xx and no ``data`` entry when its request was not executed (unparsable, invalid, refused
    # before execution). application/json, the default, keeps 200 and ``"data": null``.

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if _accepts_graphql_response(request) and _not_executed(result):
            request.scope.setdefault("state", {})["graphql_not_executed"] = True
            response.pop("data", None)
        return response

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        response = await super().run(request, context, root_value)
        if (
            isinstance(request, Request)
            and isinstance(response, Response)
            and response.media_type == "application/json"
            and _accepts_graphql_response(request)
        ):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if request.scope.get("state", {}).get("graphql_not_executed"):
                response.status_code = 400
        return response

    def _operation_context(self, connection: Context) -> Context:
        """One operation on a socket: its own session and transaction, the socket's principal."""
        context = self.container.operation_context(
            request_id=f"{connection.request_id}-{uuid.uuid4().hex[:8]}", principal=connection.principal
        )
        context.connection_params = connection.connection_params
        return context


GRAPHQL_RESPONSE = "application/graphql-response+json"


def _accepts_graphql_response(request: Request | WebSocket) -> bool:
    """The Accept header ranks application/graphql-response+json at least as high as application/json."""
    quality: dict[str, float] = {}
    for item in request.headers.get("accept", "").split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media_type.lower()] = max(q, quality.get(media_type.lower(), 0.0))
    wanted = quality.get(GRAPHQL_RESPONSE, 0.0)
    return wanted > 0 and wanted >= quality.get("application/json", 0.0)


def _not_executed(result: ExecutionResult) -> bool:
    """Parse and validation failures (and refusals before execution) carry errors without a path."""
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors or ())


class CompiledFirst:
    """Offers each HTTP GraphQL read to the compiled path first; whatever it declines (or
    anything that is not a JSON POST or a GET with a query) goes to Strawberry unchanged."""

    def __init__(self, graphql: ASGIApp, compiled: CompiledReads) -> None:
        self.graphql = graphql
        self.compiled = compiled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.graphql(scope, receive, send)
            return
        request = Request(scope, receive)
        payload: Any = None
        body: bytes | None = None
        if request.method == "POST" and request.headers.get("content-type", "").startswith("application/json"):
            body = await request.body()
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError:
                payload = None
        elif (
            request.method == "GET"
            and "query" in request.query_params
            and "text/html" not in request.headers.get("accept", "")
        ):
            payload = self._from_query_params(request)
        if payload is not None:
            state = scope.setdefault("state", {})
            answer = await self.compiled.answer(payload, request.headers.get("authorization"), state)
            if answer is not None:
                # a compiled answer is always an executed operation: 200 in either media type
                media_type = GRAPHQL_RESPONSE if _accepts_graphql_response(request) else "application/json"
                await Response(answer, media_type=media_type)(scope, receive, send)
                return
        await self.graphql(scope, receive if body is None else _replay(body, receive), send)

    @staticmethod
    def _from_query_params(request: Request) -> Any:
        params = request.query_params
        try:
            variables = orjson.loads(params["variables"]) if "variables" in params else None
        except orjson.JSONDecodeError:
            return None
        return {"query": params["query"], "variables": variables, "operationName": params.get("operationName")}


def _replay(body: bytes, receive: Receive) -> Receive:
    """The request body again for Strawberry, which reads it after us; then the real channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


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
    http_graphql: ASGIApp = graphql
    if container.settings.compiled_reads:
        http_graphql = CompiledFirst(graphql, CompiledReads(container))

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
            Route("/graphql", http_graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *blob_routes,
            *(
                [Mount("/static/graphiql", StaticFiles(directory=STATIC / "graphiql"), name="graphiql")]
                if container.settings.graphiql_enabled
                else []
            ),
        ],
        lifespan=lifespan,
    )
    # Starlette answers `/graphql/` with a redirect to an absolute URL built from the Host
    # header (a forged Host made it an open redirect); an unknown path is a plain 404 instead.
    starlette.router.redirect_slashes = False
    app = RequestScope(starlette, container.settings.max_body_bytes, container.settings.http_body_timeout_seconds)
    if not blob_routes:
        return app
    # A file is larger than any GraphQL request: uploads get their own cap, the kinds' largest.
    uploads = RequestScope(starlette, MAX_UPLOAD_BODY, container.settings.http_body_timeout_seconds)

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
