"""The Starlette app, composed: /graphql (HTTP, GraphiQL, WebSocket), /healthz, /readyz and,
on the local blob store, its upload and download routes, inside the request scope.

Each part has its module: ``request_scope`` (request id, body cap and deadline, access log),
``graphql_view`` (Strawberry's view, GraphiQL), ``negotiation`` (GraphQL over HTTP's media
types), ``compiled_first`` (compiled reads before Strawberry), ``health``, ``lifespan``,
``blob_routes``, ``web_app`` (the bundle at /app/, demo sign-in); ``sockets`` and
``socket_rights`` hold the WebSocket protocols."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.blobs.local import UPLOAD_PATH, LocalBlobStore
from app.blob_routes import local_blob_routes
from app.compiled_first import CompiledFirst
from app.compiled_reads import CompiledReads
from app.graphql_view import GraphQLApp, graphiql_assets
from app.health import health_routes
from app.jobs_http import dev_mail_routes
from app.lifespan import lifespan
from app.request_scope import RequestScope
from app.trusted_documents import TrustedDocumentsGate
from app.web_app import web_app_routes
from app.wiring import Container


def create_app(container: Container) -> ASGIApp:
    graphql = GraphQLApp(container)
    http_graphql: ASGIApp = graphql
    if container.settings.compiled_reads:
        http_graphql = CompiledFirst(graphql, CompiledReads(container))
    http_graphql = TrustedDocumentsGate(http_graphql, graphql.trusted)
    blob_routes = local_blob_routes(container.blobs) if isinstance(container.blobs, LocalBlobStore) else []
    starlette = Starlette(
        routes=[
            Route("/graphql", http_graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *health_routes(container.app_engine),
            *blob_routes,
            *web_app_routes(container),
            *dev_mail_routes(container),
            *([graphiql_assets()] if container.settings.graphiql_enabled else []),
        ],
        lifespan=lifespan(container),
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
