"""The ``DocumentStore`` port over the kernel: reads and creates through the generic service
(tenancy, permissions, validation in one place), saves through the entity store's
one ``save`` (compare-and-set on ``version``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from domains.document.model import Document
from domains.kernel.crud import EntityService
from domains.kernel.principal import Principal


class KernelDocumentStore:
    def __init__(self, documents: EntityService[Document]) -> None:
        self.documents = documents

    async def visible(self, actor: Principal, id: uuid.UUID) -> Document | None:
        return await self.documents.get(actor, id)

    async def create(self, actor: Principal, data: Mapping[str, Any]) -> Document:
        return await self.documents.create(actor, data)

    async def save(self, document: Document, expected_version: int) -> None:
        await self.documents.store.save(self.documents.spec, document, expected_version)
