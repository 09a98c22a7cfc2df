"""The ``DocumentStore`` port over the kernel: reads and creates through the generic service
(tenancy, permissions, validation in one place), saves through the entity store's
one ``save`` (compare-and-set on ``version``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from domains.document.model import EXPIRES_FROM, Document
from domains.kernel.crud import EntityService
from domains.kernel.principal import Principal
from domains.kernel.query import AllOf, Condition, Op, Order, PageRequest


class KernelDocumentStore:
    def __init__(self, documents: EntityService[Document]) -> None:
        self.documents = documents

    async def visible(self, actor: Principal, id: uuid.UUID) -> Document | None:
        return await self.documents.get(actor, id)

    async def create(self, actor: Principal, data: Mapping[str, Any]) -> Document:
        return await self.documents.create(actor, data)

    async def save(self, document: Document, expected_version: int) -> None:
        await self.documents.store.save(self.documents.spec, document, expected_version)

    async def due_to_expire(self, actor: Principal, today: date) -> list[uuid.UUID]:
        due = AllOf((Condition("expires_on", Op.LTE, today), Condition("status", Op.IN, list(EXPIRES_FROM))))
        page = await self.documents.list(actor, due, (Order("expires_on"),), PageRequest(first=EXPIRY_BATCH))
        return [document.id for document in page.items]


EXPIRY_BATCH = 100
"""Documents expired per round of the scan (the next round takes the rest)."""
