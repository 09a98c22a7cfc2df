"""The ``DocumentStore`` port over the kernel: reads and creates through the generic service
(tenancy, permissions, validation in one place), saves through the entity store's
compare-and-set on ``version``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from domains.document.model import Document
from domains.kernel.crud import EntityService
from domains.kernel.entity import utcnow
from domains.kernel.errors import Conflict
from domains.kernel.principal import Principal


class KernelDocumentStore:
    def __init__(self, documents: EntityService[Document]) -> None:
        self.documents = documents

    async def visible(self, viewer: Principal, id: uuid.UUID) -> Document | None:
        return await self.documents.get(viewer, id)

    async def create(self, viewer: Principal, data: Mapping[str, Any]) -> Document:
        return await self.documents.create(viewer, data)

    async def save(self, document: Document, expected_version: int) -> None:
        document.version = expected_version + 1
        document.updated_at = utcnow()
        spec, store = self.documents.spec, self.documents.store
        if not await store.update(spec, document, expected_version):
            current = await store.get_many(spec, [document.id], None, include_deleted=True)
            raise Conflict("Document was changed meanwhile", current_version=current[0].version if current else None)
