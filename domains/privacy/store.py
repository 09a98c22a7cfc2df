"""The ``ErasureStore`` port over the kernel's entity store."""

from __future__ import annotations

import uuid

from domains.kernel.access import read_scope
from domains.kernel.ports import EntityStore
from domains.kernel.principal import Principal
from domains.kernel.query import AllOf, Condition, Op, PageRequest
from domains.privacy.export import PersonDataExport
from domains.privacy.model import ErasureRequest, ErasureStatus
from domains.privacy.spec import ERASURE_REQUEST, PERSON_DATA_EXPORT


class KernelErasureStore:
    def __init__(self, store: EntityStore) -> None:
        self.store = store

    async def visible(self, actor: Principal, id: uuid.UUID) -> ErasureRequest | None:
        found = await self.store.get_many(ERASURE_REQUEST, [id], read_scope(ERASURE_REQUEST, actor))
        return found[0] if found else None

    async def pending_for(self, subject_id: uuid.UUID) -> ErasureRequest | None:
        waiting = AllOf(
            (
                Condition("subject_id", Op.EQ, subject_id),
                Condition("status", Op.EQ, ErasureStatus.REQUESTED),
            )
        )
        page = await self.store.find(ERASURE_REQUEST, waiting, ERASURE_REQUEST.default_order, PageRequest(), 1)
        return page.items[0] if page.items else None

    async def add(self, request: ErasureRequest) -> None:
        await self.store.insert(ERASURE_REQUEST, request)

    async def save(self, request: ErasureRequest, expected_version: int) -> None:
        await self.store.save(ERASURE_REQUEST, request, expected_version)


class KernelExportStore:
    def __init__(self, store: EntityStore) -> None:
        self.store = store

    async def visible(self, actor: Principal, id: uuid.UUID) -> PersonDataExport | None:
        found = await self.store.get_many(PERSON_DATA_EXPORT, [id], read_scope(PERSON_DATA_EXPORT, actor))
        return found[0] if found else None

    async def add(self, export: PersonDataExport) -> None:
        await self.store.insert(PERSON_DATA_EXPORT, export)

    async def save(self, export: PersonDataExport, expected_version: int) -> None:
        await self.store.save(PERSON_DATA_EXPORT, export, expected_version)
