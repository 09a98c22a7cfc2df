"""approveDocument: IN_REVIEW to APPROVED (HR, never the document's owner)."""

from __future__ import annotations

import strawberry

from domains.document.model import Document
from schema.context import Info
from schema.document.fields import commands
from schema.domain import EntityMutation
from schema.factory import parse_id


async def approve_document(info: Info, id: strawberry.ID, expected_version: int) -> Document:
    key = parse_id(id, "Document", "id")
    return await commands(info).approve(info.context.viewer, key, expected_version)


MUTATION = EntityMutation("Document", approve_document, "IN_REVIEW to APPROVED (HR, never the document's owner).")
