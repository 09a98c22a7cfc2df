"""acceptDocumentExtraction: HR takes one field a file's analysis read (an expiry date
becomes the document's expiresOn)."""

from __future__ import annotations

import strawberry

from domains.document.analysis import ExtractedFieldName
from domains.document.model import Document
from schema.context import Info
from schema.document.analysis_types import DocumentAnalysis  # noqa: F401 (registers ExtractedFieldName)
from schema.document.fields import commands
from schema.domain import EntityMutation
from schema.factory import parse_id


async def accept_document_extraction(
    info: Info, id: strawberry.ID, version: int, field: ExtractedFieldName, expected_version: int
) -> Document:
    key = parse_id(id, "Document", "id")
    return await commands(info).accept_extraction(info.context.viewer, key, version, field, expected_version)


MUTATION = EntityMutation(
    "Document",
    accept_document_extraction,
    "HR accepts a field the analysis of file version `version` read: an EXPIRY_DATE becomes the document's"
    " expiresOn; the status does not move.",
)
