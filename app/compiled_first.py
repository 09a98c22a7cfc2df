"""The compiled-first router of HTTP GraphQL reads: a read the compiled path can answer
(``app/compiled_reads.py``, one SQL statement) is answered there, the rest by Strawberry."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.body_replay import replaying, whole_body
from app.compiled_reads import CompiledReads
from app.negotiation import executed_media_type


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
                await Response(answer, media_type=executed_media_type(request))(scope, receive, send)
                return
        await self.graphql(scope, receive if body is None else replaying(whole_body(body), receive), send)

    @staticmethod
    def _from_query_params(request: Request) -> Any:
        params = request.query_params
        try:
            variables = orjson.loads(params["variables"]) if "variables" in params else None
        except orjson.JSONDecodeError:
            return None
        return {"query": params["query"], "variables": variables, "operationName": params.get("operationName")}
