"""The local blob store's endpoints: the presigned upload (a multipart POST, as to S3) and the
signed download. Every rule is the store's (``adapters/blobs/local.py``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from adapters.blobs.local import DOWNLOAD_PATH, FORM_OVERHEAD, UPLOAD_PATH, LocalBlobStore, Refused
from domains.document.model import KIND_RULES

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
