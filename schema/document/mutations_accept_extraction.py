"""acceptDocumentExtraction: HR takes one field a file's analysis read (an expiry date
becomes the document's expiresOn)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from domains.document.analysis import ExtractedFieldName
from schema.context import Info
from schema.document.analysis_types import DocumentAnalysis  # noqa: F401 (registers ExtractedFieldName)
from schema.document.fields import commands
from schema.factory import parse_id

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def accept_extraction_mutations(factory: EntitySchemaFactory) -> dict[str, Any]:
    types = factory.types["Document"]

    async def accept_document_extraction(
        info: Info,
        id: strawberry.ID,
        version: int,
        field: ExtractedFieldName,
        expected_version: int,
    ) -> Any:
        key = parse_id(id, "Document", "id")
        document = await commands(info).accept_extraction(info.context.viewer, key, version, field, expected_version)
        return types.payload(document=document)

    accept_document_extraction.__annotations__["return"] = types.result
    return {
        "accept_document_extraction": strawberry.field(
            resolver=accept_document_extraction,
            description="HR accepts a field the analysis of file version `version` read: an EXPIRY_DATE "
            "becomes the document's expiresOn; the status does not move.",
        )
    }
