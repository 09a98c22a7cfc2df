"""The Starlette app: /graphql (HTTP, GraphiQL, WebSocket), /healthz, /readyz."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from app.wiring import Container
from schema.context import Context

# GraphiQL's page and the pinned assets it loads (frontend/vendor-graphiql.mjs): no CDN.
STATIC = Path(__file__).resolve().parent / "static"
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
            graphql_ide="graphiql" if container.settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.container = container

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse((STATIC / "graphiql.html").read_text())

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        state = request.scope.setdefault("state", {})
        return self.container.context(
            request_id=state.get("request_id") or uuid.uuid4().hex,
            authorization=request.headers.get("authorization"),
            state=state,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Browsers cannot set headers on a WebSocket: the token may come in connection_init."""
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if authorization and context.principal is None:
            principal, error = self.container.authenticate(str(authorization))
            if principal is None:
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": error})
            context.principal = principal
        return UNSET


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
            *(
                [Mount("/static/graphiql", StaticFiles(directory=STATIC / "graphiql"), name="graphiql")]
                if container.settings.graphiql_enabled
                else []
            ),
        ],
        lifespan=lifespan,
    )
    return RequestScope(starlette, container.settings.max_body_bytes)
