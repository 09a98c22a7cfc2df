"""Trusted documents: the operations the frontend ships (``frontend/operations``), known by the
SHA-256 of their text from a manifest written at codegen time (``frontend/trusted-documents.mjs``,
``frontend/operations/trusted-documents.json``).

A client may send only the hash: ``documentId`` (``"<hex>"`` or ``"sha256:<hex>"``), or Apollo's
automatic persisted queries extension ``{"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}``.
A known hash becomes the manifest's text before anything else sees the request; the text is the
same ``str`` object every time, so the parser's, the validator's and the compiled reads' caches
(keyed by the text) find it at the cost of a pointer comparison, and a known document is never
parsed, validated or planned twice. An unknown hash sent alone is ``PersistedQueryNotFound``
(Apollo's link then sends the text with the hash, which must match).

``TRUSTED_DOCUMENTS`` decides about documents outside the manifest: ``off`` (the default)
answers them; ``log`` answers them and logs each (a gradual start: see what would be refused);
``only`` refuses them with ``TRUSTED_DOCUMENT_REQUIRED``, before parsing. Used over HTTP
(``TrustedDocumentsGate``, in front of the compiled reads and Strawberry) and on sockets
(``app/sockets.py``)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.body_replay import replaying, whole_body
from app.negotiation import GRAPHQL_RESPONSE, accepts_graphql_response

log = logging.getLogger("hrgraph.trusted_documents")

TrustedMode = Literal["off", "log", "only"]
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
_HASH_PREFIX = "sha256:"
_MARKERS = (b"documentId", b"persistedQuery")  # a body without either needs no look in `off`


@dataclass(frozen=True)
class Refusal:
    """A request refused before parsing, as GraphQL's request error."""

    code: str
    message: str

    def error(self) -> dict[str, Any]:
        return {"message": self.message, "extensions": {"code": self.code}}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class TrustedDocuments:
    def __init__(self, documents: dict[str, str], mode: TrustedMode) -> None:
        self.documents = documents
        self.mode = mode

    @classmethod
    def load(cls, path: Path, mode: TrustedMode) -> TrustedDocuments:
        try:
            documents = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            if mode != "off":
                log.warning("no trusted documents at %s: every document is unknown", path)
            documents = {}
        return cls({str(k): str(v) for k, v in documents.items()}, mode)

    def resolve(self, payload: Any) -> Any:
        """The request with a known hash replaced by its text, the request itself, or a Refusal."""
        if not isinstance(payload, dict):
            return payload
        sent_hash, problem = _sent_hash(payload)
        if problem is not None:
            return problem
        query = payload.get("query")
        if query == "":
            query = None  # graphql-ws clients must send a string: the empty one means none
        if sent_hash is not None:
            if query is None:
                text = self.documents.get(sent_hash)
                if text is None:
                    return Refusal(NOT_FOUND, "PersistedQueryNotFound")
                return _with_text(payload, text)
            if not isinstance(query, str) or digest(query) != sent_hash:
                return Refusal("PERSISTED_QUERY_HASH_MISMATCH", "provided sha does not match query")
            known = self.documents.get(sent_hash)
            if known is not None:
                return _with_text(payload, known)
            return self._unknown(_with_text(payload, query), sent_hash)
        if self.mode == "off" or not isinstance(query, str):
            return payload
        known = self.documents.get(digest(query))
        if known is not None:
            return payload
        return self._unknown(payload, digest(query))

    def _unknown(self, payload: dict[str, Any], sha256: str) -> Any:
        if self.mode == "only":
            return Refusal(
                "TRUSTED_DOCUMENT_REQUIRED",
                "this server answers trusted documents only (frontend/operations): send a known documentId",
            )
        if self.mode == "log":
            log.warning("untrusted document: operation %s, sha256 %s", payload.get("operationName"), sha256)
        return payload


def _sent_hash(payload: dict[str, Any]) -> tuple[str | None, Refusal | None]:
    document_id = payload.get("documentId")
    extensions = payload.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if document_id is not None:
        if not isinstance(document_id, str) or not document_id:
            return None, Refusal("BAD_REQUEST", "documentId must be a string: the document's SHA-256")
        return document_id.removeprefix(_HASH_PREFIX).lower(), None
    if persisted is not None:
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            return None, Refusal("PERSISTED_QUERY_NOT_SUPPORTED", "persistedQuery: only version 1 is supported")
        sha = persisted.get("sha256Hash")
        if not isinstance(sha, str) or not sha:
            return None, Refusal("BAD_REQUEST", "persistedQuery.sha256Hash must be a string")
        return sha.lower(), None
    return None, None


def _with_text(payload: dict[str, Any], text: str) -> dict[str, Any]:
    resolved = {k: v for k, v in payload.items() if k != "documentId"}
    resolved["query"] = text
    extensions = payload.get("extensions")
    if isinstance(extensions, dict) and "persistedQuery" in extensions:
        rest = {k: v for k, v in extensions.items() if k != "persistedQuery"}
        resolved["extensions"] = rest or None
    return resolved


class TrustedDocumentsGate:
    """Resolves hashes (and, in ``log`` and ``only``, checks texts) of HTTP GraphQL requests
    before the app behind it reads them: a JSON POST's body, a GET's query string."""

    def __init__(self, app: ASGIApp, trusted: TrustedDocuments) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.method == "POST" and request.headers.get("content-type", "").startswith("application/json"):
            body = await request.body()
            receive = replaying(whole_body(body), receive)
            if self.trusted.mode == "off" and not any(marker in body for marker in _MARKERS):
                await self.app(scope, receive, send)
                return
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError:
                await self.app(scope, receive, send)
                return
            resolved = self.trusted.resolve(payload)
            if isinstance(resolved, Refusal):
                await _refuse(request, resolved)(scope, receive, send)
                return
            if resolved is not payload:
                receive = replaying(whole_body(orjson.dumps(resolved)), receive)
            await self.app(scope, receive, send)
            return
        if request.method == "GET" and self._sends_a_document(request):
            params = dict(request.query_params)
            sent: dict[str, Any] = {k: v for k, v in params.items() if k in ("query", "documentId", "operationName")}
            if "extensions" in params:
                with contextlib.suppress(orjson.JSONDecodeError):
                    sent["extensions"] = orjson.loads(params["extensions"])
            resolved = self.trusted.resolve(sent)
            if isinstance(resolved, Refusal):
                await _refuse(request, resolved)(scope, receive, send)
                return
            if resolved is not sent:
                kept = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode()) if k != "documentId"]
                kept = [(k, v) for k, v in kept if k != "query"] + [("query", resolved["query"])]
                scope = {**scope, "query_string": urlencode(kept).encode()}
        await self.app(scope, receive, send)

    def _sends_a_document(self, request: Request) -> bool:
        params = request.query_params
        if "documentId" in params or "persistedQuery" in params.get("extensions", ""):
            return True
        return self.trusted.mode != "off" and "query" in params


def _refuse(request: Request, refusal: Refusal) -> Response:
    """Not executed: 200 in application/json (Apollo's link reads it there), 400 for a client
    that takes application/graphql-response+json (GraphQL over HTTP)."""
    strict = accepts_graphql_response(request)
    return Response(
        orjson.dumps({"errors": [refusal.error()]}),
        status_code=400 if strict else 200,
        media_type=GRAPHQL_RESPONSE if strict else "application/json",
    )
