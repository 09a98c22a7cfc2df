"""The Starlette app: /graphql (HTTP, GraphiQL, WebSocket), /healthz, /readyz."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from adapters.blobs.local import UPLOAD_PATH, LocalBlobStore
from app.blob_routes import local_blob_routes
from app.compiled_reads import CompiledReads
from app.jobs_http import dev_mail_routes, job_parts
from app.socket_rights import SocketSignIn
from app.sockets import LegacyWSHandler, TextFrames, TransportWSHandler, operation_request_id
from app.wiring import Container
from schema.context import Context

# GraphiQL's page and the pinned assets it loads (frontend/vendor-graphiql.mjs): no CDN.
STATIC = Path(__file__).resolve().parent / "static"
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


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = TextFrames

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
        if isinstance(request, WebSocket):  # the handshake's token, unless connection_init brings one
            context.request_state["authorization"] = request.headers.get("authorization")
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

    async def operation_context(self, connection: Context, sign_in: SocketSignIn | None) -> Context:
        """One operation on a socket: its own session and transaction, signed in again with
        the socket's token, as an HTTP request would be (the same answers when it no longer holds)."""
        context = await self.container.context(
            request_id=operation_request_id(connection),
            authorization=sign_in.authorization if sign_in is not None else None,
            state={},
        )
        context.connection_params = connection.connection_params
        if context.principal is not None:
            self.container.principals.remember(context.principal.user_id, context.principal)
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
        async with job_parts(container):
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
            *dev_mail_routes(container),
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
    # An upload is not read ahead: the store streams it and caps it by its ticket (blob_routes).
    uploads = RequestScope(starlette, None)

    async def route_uploads(scope: Scope, receive: Receive, send: Send) -> None:
        await (uploads if scope.get("path") == UPLOAD_PATH else app)(scope, receive, send)

    return route_uploads
