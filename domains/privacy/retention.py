"""Retention: the worker's periodic scan (``sweep``), as the system, in one transaction.

- Documents of a kind with a retention period (``KindRules.retention``, given by the
  composition root as kind -> period) whose last change is older than it, and whose owner is not
  under a legal hold (``User.legal_hold``, set by HR): every file is deleted from the blob store
  (every version, every upload), the document is soft-deleted and its personal fields cleared;
  one ``RetentionApplied`` audit entry each.
- Soft-deleted documents' files, and the objects of upload tickets abandoned (never confirmed),
  ``sweep_after`` after the deletion or the ticket's expiry: deleted from the store; one
  ``FilesSwept`` audit entry per document whose store held any.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domains.kernel.audit import FILES_SWEPT, RETENTION_APPLIED, AuditEntry, AuditRecorder
from domains.kernel.unit_of_work import Transactional
from domains.privacy.ports import Clock, FileEraser


@dataclass(frozen=True)
class HeldDocument:
    id: uuid.UUID
    company_id: uuid.UUID
    owner_id: uuid.UUID
    kind: str
    folder: str
    """The document's own folder in the store (every version); its uploads lie under
    ``uploads/`` + it."""


class RetentionStore(Protocol):
    async def due(self, cutoffs: Mapping[str, datetime]) -> Sequence[HeldDocument]:
        """Live documents of each kind last changed before its cutoff, of people not on hold."""
        ...

    async def retire(self, ids: Sequence[uuid.UUID], at: datetime) -> None:
        """Soft-deletes the documents and clears their personal fields."""
        ...

    async def deleted_before(self, cutoff: datetime) -> Sequence[HeldDocument]: ...

    async def abandoned_before(self, cutoff: datetime) -> Sequence[HeldDocument]:
        """Documents whose pending upload ticket expired before ``cutoff``."""
        ...

    async def forget_tickets(self, ids: Sequence[uuid.UUID]) -> None: ...


@dataclass(frozen=True)
class SweepReport:
    retired: int
    files_deleted: int
    swept: int


class RetentionCommands:
    def __init__(
        self,
        store: RetentionStore,
        files: FileEraser,
        clock: Clock,
        uow: Transactional,
        audit: AuditRecorder,
        periods: Mapping[str, timedelta],
        sweep_after: timedelta,
        upload_prefix: str = "uploads",
    ) -> None:
        self.store = store
        self.files = files
        self.clock = clock
        self.uow = uow
        self.audit = audit
        self.periods = dict(periods)
        self.sweep_after = sweep_after
        self.upload_prefix = upload_prefix

    async def sweep(self) -> SweepReport:
        now = self.clock.now()
        entries: list[AuditEntry] = []
        deleted = swept = 0
        async with self.uow.transaction():
            due = await self.store.due({kind: now - period for kind, period in self.periods.items()})
            for document in due:
                count = await self._erase(document, uploads=True, files=True)
                deleted += count
                entries.append(self._entry(RETENTION_APPLIED, document, {"kind": document.kind, "filesDeleted": count}))
            await self.store.retire([d.id for d in due], now)
            cutoff = now - self.sweep_after
            for document in await self.store.deleted_before(cutoff):
                count = await self._erase(document, uploads=True, files=True)
                if count:
                    swept += 1
                    deleted += count
                    entries.append(self._entry(FILES_SWEPT, document, {"reason": "deleted", "filesDeleted": count}))
            abandoned = await self.store.abandoned_before(cutoff)
            for document in abandoned:
                count = await self._erase(document, uploads=True, files=False)
                if count:
                    swept += 1
                    deleted += count
                    entries.append(self._entry(FILES_SWEPT, document, {"reason": "abandoned", "filesDeleted": count}))
            await self.store.forget_tickets([d.id for d in abandoned])
            if entries:
                await self.audit.record(entries)
        return SweepReport(len(due), deleted, swept)

    async def _erase(self, document: HeldDocument, *, uploads: bool, files: bool) -> int:
        count = 0
        if files:
            count += await self.files.erase(document.folder)
        if uploads:
            count += await self.files.erase(f"{self.upload_prefix}/{document.folder}")
        return count

    @staticmethod
    def _entry(action: str, document: HeldDocument, changes: Mapping[str, object]) -> AuditEntry:
        return AuditEntry(
            action=action,
            entity="Document",
            entity_id=document.id,
            company_id=document.company_id,
            subject_id=document.owner_id,
            changes=dict(changes),
        )
