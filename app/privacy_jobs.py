"""The privacy work of a worker: a person's data export assembled after
``PersonDataExportRequested``, and the retention scan of every round. It acts as the system, on
the owner's pool (a worker is not a request: row-level security does not apply to it)."""

from __future__ import annotations

import uuid

from adapters.auth.sign_in import SYSTEM
from adapters.jobs.clock import StoredClock
from adapters.sql.database import RequestDatabase
from app.settings import Settings
from app.wiring import Container, Operation


class WorkerPrivacy:
    """``adapters.jobs.queue.PrivacyJobs`` on a container of the worker's own event loop."""

    def __init__(self, settings: Settings, database_url: str) -> None:
        self.settings = settings
        self.database_url = database_url
        self._container: Container | None = None

    async def _operation(self) -> Operation:
        if self._container is None:
            self._container = Container.build(self.settings, self.database_url)
        if isinstance(self._container.clock, StoredClock):
            await self._container.clock.refresh()
        return self._container.operation(RequestDatabase(self._container.engine))

    async def export(self, export_id: str) -> None:
        operation = await self._operation()
        await operation.commands.export.assemble(SYSTEM, uuid.UUID(export_id))

    async def sweep(self) -> int:
        operation = await self._operation()
        return (await operation.commands.retention.sweep()).files_deleted

    async def close(self) -> None:
        if self._container is not None:
            await self._container.engine.dispose()
