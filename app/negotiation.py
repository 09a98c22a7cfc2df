"""GraphQL over HTTP's media types. A client that accepts application/graphql-response+json
gets it, with a 4xx status and no ``data`` entry when its request was not executed
(unparsable, invalid, refused before execution); application/json, the default, keeps 200 and
``"data": null``. Used by the GraphQL view (``app/graphql_view.py``) and the compiled reads
(``app/compiled_first.py``), whose answers are always executed operations."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

GRAPHQL_RESPONSE = "application/graphql-response+json"
_NOT_EXECUTED = "graphql_not_executed"  # the request's state, from the result to the response


def accepts_graphql_response(request: Request | WebSocket) -> bool:
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


def executed_media_type(request: Request) -> str:
    """The media type of an answer to an executed operation (200 in either)."""
    return GRAPHQL_RESPONSE if accepts_graphql_response(request) else "application/json"


def shape_result(request: Request, result: ExecutionResult, response: GraphQLHTTPResponse) -> None:
    """Drops ``data`` from the response to a request that was not executed, when the client
    takes application/graphql-response+json, and notes it for ``negotiate``."""
    if accepts_graphql_response(request) and _not_executed(result):
        request.scope.setdefault("state", {})[_NOT_EXECUTED] = True
        response.pop("data", None)


def negotiate(request: object, response: object) -> None:
    """Gives a JSON answer the media type the client prefers, and 400 when not executed."""
    if (
        isinstance(request, Request)
        and isinstance(response, Response)
        and response.media_type == "application/json"
        and accepts_graphql_response(request)
    ):
        response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        if request.scope.get("state", {}).get(_NOT_EXECUTED):
            response.status_code = 400


def _not_executed(result: ExecutionResult) -> bool:
    """Parse and validation failures (and refusals before execution) carry errors without a path."""
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors or ())
