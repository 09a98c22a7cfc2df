"""The privacy work of a worker: a person's data export assembled after
``PersonDataExportRequested``, and the retention scan of every round. It acts as the system, on
the owner's pool (a worker is not a request: row-level security does not apply to it)."""

from __future__ import annotations

import uuid

from adapters.auth.sign_in import SYSTEM
from app.settings import Settings
from app.wiring import Operation
from app.worker_parts import WorkerContainer


class WorkerPrivacy:
    """``adapters.jobs.queue.PrivacyJobs`` on a container of the worker's own event loop."""

    def __init__(self, settings: Settings, parts: WorkerContainer) -> None:
        self.settings = settings
        self.parts = parts

    async def _operation(self) -> Operation:
        return await self.parts.operation()

    async def export(self, export_id: str) -> None:
        operation = await self._operation()
        await operation.commands.export.assemble(SYSTEM, uuid.UUID(export_id))

    async def sweep(self) -> int:
        operation = await self._operation()
        return (await operation.commands.retention.sweep()).files_deleted

    async def close(self) -> None:
        await self.parts.close()
