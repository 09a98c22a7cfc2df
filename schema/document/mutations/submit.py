"""submitDocumentForReview: UPLOADED to IN_REVIEW (the owner or HR)."""

from __future__ import annotations

import strawberry

from domains.document.model import Document
from schema.context import Info
from schema.document.fields import commands
from schema.domain import EntityMutation
from schema.factory import parse_id


async def submit_document_for_review(info: Info, id: strawberry.ID, expected_version: int) -> Document:
    key = parse_id(id, "Document", "id")
    return await commands(info).submit(info.context.viewer, key, expected_version)


MUTATION = EntityMutation("Document", submit_document_for_review, "UPLOADED to IN_REVIEW (the owner or HR).")
