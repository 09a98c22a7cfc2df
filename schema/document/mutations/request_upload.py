"""requestDocumentUpload: a presigned upload for a new document or the next file of one."""

from __future__ import annotations

from typing import Any

from domains.document.model import DeclaredFile
from domains.document.service import NewDocument
from domains.kernel.errors import Invalid
from schema.context import Info
from schema.document.fields import commands
from schema.document.types import RequestDocumentUploadInput, UploadTicket
from schema.domain import EntityMutation
from schema.factory import parse_id


def _new_document(input: RequestDocumentUploadInput) -> NewDocument | None:
    """None for the next file of an existing document (``documentId``); the fields of a new
    document are the domain's (``NewDocument``)."""
    given = {name: getattr(input, name) for name in NewDocument.fields()}
    if input.document_id is not None:
        extra = [name for name, value in given.items() if value is not None]
        if extra:
            raise Invalid({(name,): ["is only for a new document, not with documentId"] for name in extra})
        return None
    if given["owner_id"] is not None:
        given["owner_id"] = parse_id(given["owner_id"], "User", "ownerId")
    return NewDocument.of(given)


async def request_document_upload(info: Info, input: RequestDocumentUploadInput) -> dict[str, Any]:
    declared = DeclaredFile(input.file_name, input.content_type, input.size_bytes)
    actor = info.context.viewer
    new = _new_document(input)
    if new is None:
        assert input.document_id is not None
        id = parse_id(input.document_id, "Document", "documentId")
        granted = await commands(info).request_upload(actor, id, declared)
    else:
        granted = await commands(info).request_upload_for_new(actor, new, declared)
    return {"document": granted.document, "upload": UploadTicket.of(granted.ticket)}


MUTATION = EntityMutation(
    "Document",
    request_document_upload,
    "A presigned upload for a new document or the next file of an existing one.",
    payload="RequestDocumentUpload",
    extra={"upload": UploadTicket},
    payload_description="The document and the ticket to upload its file with.",
)

__all__ = ["MUTATION"]
