"""confirmDocumentUpload: Checks the uploaded file and makes it the document's next version (UPLOADED)."""

from __future__ import annotations

import strawberry

from domains.document.model import Document
from schema.context import Info
from schema.document.fields import commands
from schema.domain import EntityMutation
from schema.factory import parse_id


async def confirm_document_upload(info: Info, id: strawberry.ID) -> Document:
    key = parse_id(id, "Document", "id")
    return await commands(info).confirm_upload(info.context.viewer, key)


MUTATION = EntityMutation(
    "Document",
    confirm_document_upload,
    "Checks the uploaded file and makes it the document's next version (UPLOADED).",
)
