"""The worker's one container, built on first use in the worker's own event loop: the document
jobs and the privacy jobs share it (one owner's pool per worker process). A worker is not a
request: it acts as the system, on the owner's pool, outside row-level security."""

from __future__ import annotations

from adapters.jobs.clock import StoredClock
from adapters.sql.database import RequestDatabase
from app.settings import Settings
from app.wiring import Container, Operation


class WorkerContainer:
    def __init__(self, settings: Settings, database_url: str) -> None:
        self.settings = settings
        self.database_url = database_url
        self._container: Container | None = None

    async def operation(self) -> Operation:
        """A fresh operation on the owner's pool, the movable clock read anew."""
        if self._container is None:
            self._container = Container.build(self.settings, self.database_url)
        if isinstance(self._container.clock, StoredClock):
            await self._container.clock.refresh()
        return self._container.operation(RequestDatabase(self._container.engine))

    async def close(self) -> None:
        """Idempotent: each of its users may close it."""
        if self._container is not None:
            container, self._container = self._container, None
            await container.dispose()
