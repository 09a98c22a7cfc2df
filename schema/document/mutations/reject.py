"""rejectDocument: IN_REVIEW to REJECTED, with a reason (HR, never the document's owner)."""

from __future__ import annotations

import strawberry

from domains.document.model import Document
from schema.context import Info
from schema.document.fields import commands
from schema.domain import EntityMutation
from schema.factory import parse_id


async def reject_document(info: Info, id: strawberry.ID, reason: str, expected_version: int) -> Document:
    key = parse_id(id, "Document", "id")
    return await commands(info).reject(info.context.viewer, key, reason, expected_version)


MUTATION = EntityMutation(
    "Document",
    reject_document,
    "IN_REVIEW to REJECTED, with a reason (HR, never the document's owner).",
)
