"""The Starlette app: /graphql (HTTP, GraphiQL, WebSocket), /healthz, /readyz."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from app.wiring import Container
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


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, container: Container) -> None:
        super().__init__(
            container.schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.container = container

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        state = request.scope.setdefault("state", {})
        return self.container.context(
            request_id=state.get("request_id") or uuid.uuid4().hex,
            authorization=request.headers.get("authorization"),
            state=state,
        )

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

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Browsers cannot set headers on a WebSocket: the token may come in connection_init."""
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if authorization and context.principal is None:
            principal, error = self.container.authenticate(str(authorization))
            if principal is None:
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": error})
            context.principal = principal
        return cast(UnsetType, UNSET)


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
        yield
        await container.engine.dispose()

    starlette = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
    return RequestScope(starlette, container.settings.max_body_bytes)
