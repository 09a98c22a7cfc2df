"""The GraphQL view: Strawberry's ASGI app over HTTP (GET, POST, GraphiQL) and WebSocket
(graphql-transport-ws and the legacy graphql-ws, ``app/sockets.py``), each request or socket
operation with its own context from the container."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.negotiation import negotiate, shape_result
from app.socket_rights import SocketSignIn
from app.sockets import LegacyWSHandler, TextFrames, TransportWSHandler, operation_request_id
from app.trusted_documents import TrustedDocuments
from app.wiring import Container
from schema.context import Context

# GraphiQL's page and the pinned assets it loads (frontend/vendor-graphiql.mjs): no CDN.
STATIC = Path(__file__).resolve().parent / "static"


def graphiql_assets() -> Mount:
    return Mount("/static/graphiql", StaticFiles(directory=STATIC / "graphiql"), name="graphiql")


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
        settings = container.settings
        self.trusted = TrustedDocuments.load(settings.trusted_documents_file, settings.trusted_documents)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse((STATIC / "graphiql.html").read_text())

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        state = request.scope.setdefault("state", {})
        if request.client is not None:  # who the audit trail names as the change's origin
            state.setdefault("client_address", request.client.host)
        context = await self.container.context(
            request_id=state.get("request_id") or uuid.uuid4().hex,
            authorization=request.headers.get("authorization"),
            state=state,
        )
        if isinstance(request, WebSocket):  # the handshake's token, unless connection_init brings one
            context.request_state["authorization"] = request.headers.get("authorization")
        return context

    # GraphQL over HTTP's media types (app/negotiation.py)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        shape_result(request, result, response)
        return response

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        response = await super().run(request, context, root_value)
        negotiate(request, response)
        return response

    async def operation_context(self, connection: Context, sign_in: SocketSignIn | None) -> Context:
        """One operation on a socket: its own session and transaction, signed in again with
        the socket's token, as an HTTP request would be (the same answers when it no longer holds)."""
        context = await self.container.context(
            request_id=operation_request_id(connection),
            authorization=sign_in.authorization if sign_in is not None else None,
            state={"client_address": connection.request_state.get("client_address")},
        )
        context.connection_params = connection.connection_params
        if context.principal is not None:
            self.container.principals.remember(context.principal.user_id, context.principal)
        return context
