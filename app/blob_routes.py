"""The local blob store's endpoints: the presigned upload (a multipart POST, as to S3) and the
signed download. Every rule is the store's (``adapters/blobs/local.py``); these only carry
HTTP to it. The upload is handed to the store as it streams in, never read whole first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive

from adapters.blobs.downloads import SAFE_FILE_HEADERS, attachment
from adapters.blobs.local import DOWNLOAD_PATH, UPLOAD_PATH, LocalBlobStore, Refused

# Before answering an upload whose body is not all read (refused, or the bytes after its file),
# at most this much more is read and dropped, so that a client near its end can read the answer;
# past it the connection is closed (closing on unread data resets it, the answer with it).
DRAIN_BYTES = 256 * 1024
DRAIN_SECONDS = 1.0


class _Body:
    """The request body as it arrives, knowing whether it ended."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.finished = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.finished:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            self.finished = not message.get("more_body", False)
            yield message.get("body", b"")

    async def drain(self) -> bool:
        """Reads and drops what is left, within bounds; True if the body ended."""
        dropped = 0
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                async for chunk in self.chunks():
                    dropped += len(chunk)
                    if dropped > DRAIN_BYTES:
                        break
        except (TimeoutError, ClientDisconnect):
            pass
        return self.finished


def _refused(error: Refused, *, close: bool = False) -> Response:
    headers = {**SAFE_FILE_HEADERS, "Connection": "close"} if close else SAFE_FILE_HEADERS
    return JSONResponse({"error": error.message}, status_code=error.status, headers=headers)


def local_blob_routes(store: LocalBlobStore) -> list[Route]:
    async def upload(request: Request) -> Response:
        body = _Body(request.receive)
        declared = request.headers.get("content-length", "")
        try:
            if declared.isdigit() and int(declared) > store.max_upload_bytes:
                raise Refused(413, "the upload is too large")
            await store.receive_upload(request.headers.get("content-type", ""), body.chunks())
        except Refused as error:
            return _refused(error, close=not await body.drain())
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        close = {} if await body.drain() else {"Connection": "close"}
        return Response(status_code=204, headers={**SAFE_FILE_HEADERS, **close})

    async def download(request: Request) -> Response:
        try:
            found = await store.open_download(request.query_params)
        except Refused as error:
            return _refused(error)
        headers = {
            **SAFE_FILE_HEADERS,
            "Content-Disposition": attachment(found.file_name),
            "Content-Length": str(found.size),
        }
        return StreamingResponse(found.body, media_type=found.content_type, headers=headers)

    return [Route(UPLOAD_PATH, upload, methods=["POST"]), Route(DOWNLOAD_PATH, download, methods=["GET"])]
