"""The document commands as mutations. Each is a controller: GraphQL input to domain values,
one command (which runs in its own transaction), the domain object back; a domain error
becomes its typed member of the result union (``schema/errors.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Union

import strawberry

from domains.document.model import DeclaredFile, Document
from domains.document.service import DocumentCommands, NewDocument, UploadGranted
from domains.kernel.errors import Invalid
from schema.context import Info
from schema.document.fields import commands
from schema.document.types import RequestDocumentUploadInput, UploadTicket
from schema.errors import MUTATION_ERRORS
from schema.factory import parse_id

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


async def _run(info: Info, command: Callable[[DocumentCommands, Any], Awaitable[Any]]) -> Any:
    return await command(commands(info), info.context.viewer)


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


def document_mutations(factory: EntitySchemaFactory) -> dict[str, Any]:
    types = factory.types["Document"]
    document_result = types.result

    def payload(document: Document) -> Any:
        return types.payload(document=document)

    upload_payload = strawberry.type(
        type(
            "RequestDocumentUploadPayload",
            (),
            {"__annotations__": {"document": types.object, "upload": UploadTicket}},
        ),
        description="The document and the ticket to upload its file with.",
    )
    members: Any = (upload_payload, *MUTATION_ERRORS)  # built at start-up: a type only Strawberry reads
    upload_result = Annotated[Union[members], strawberry.union("RequestDocumentUploadResult")]  # noqa: UP007

    async def request_document_upload(info: Info, input: RequestDocumentUploadInput) -> Any:
        declared = DeclaredFile(input.file_name, input.content_type, input.size_bytes)
        new = _new_document(input)
        if new is None:
            assert input.document_id is not None
            id = parse_id(input.document_id, "Document", "documentId")
            granted: UploadGranted = await _run(info, lambda c, viewer: c.request_upload(viewer, id, declared))
        else:
            granted = await _run(info, lambda c, viewer: c.request_upload_for_new(viewer, new, declared))
        return upload_payload(document=granted.document, upload=UploadTicket.of(granted.ticket))

    async def confirm_document_upload(info: Info, id: strawberry.ID) -> Any:
        key = parse_id(id, "Document", "id")
        return payload(await _run(info, lambda c, viewer: c.confirm_upload(viewer, key)))

    async def submit_document_for_review(info: Info, id: strawberry.ID, expected_version: int) -> Any:
        key = parse_id(id, "Document", "id")
        return payload(await _run(info, lambda c, viewer: c.submit(viewer, key, expected_version)))

    async def approve_document(info: Info, id: strawberry.ID, expected_version: int) -> Any:
        key = parse_id(id, "Document", "id")
        return payload(await _run(info, lambda c, viewer: c.approve(viewer, key, expected_version)))

    async def reject_document(info: Info, id: strawberry.ID, reason: str, expected_version: int) -> Any:
        key = parse_id(id, "Document", "id")
        return payload(await _run(info, lambda c, viewer: c.reject(viewer, key, reason, expected_version)))

    request_document_upload.__annotations__["return"] = upload_result
    for resolver in (confirm_document_upload, submit_document_for_review, approve_document, reject_document):
        resolver.__annotations__["return"] = document_result

    return {
        "request_document_upload": strawberry.field(
            resolver=request_document_upload,
            description="A presigned upload for a new document or the next file of an existing one.",
        ),
        "confirm_document_upload": strawberry.field(
            resolver=confirm_document_upload,
            description="Checks the uploaded file and makes it the document's next version (UPLOADED).",
        ),
        "submit_document_for_review": strawberry.field(
            resolver=submit_document_for_review, description="UPLOADED to IN_REVIEW (the owner or HR)."
        ),
        "approve_document": strawberry.field(
            resolver=approve_document, description="IN_REVIEW to APPROVED (HR, never the document's owner)."
        ),
        "reject_document": strawberry.field(
            resolver=reject_document,
            description="IN_REVIEW to REJECTED, with a reason (HR, never the document's owner).",
        ),
    }
