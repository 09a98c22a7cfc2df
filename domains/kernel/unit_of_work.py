"""The unit of work of one operation: its transaction, the events of what it saved, and
their handlers, all committed together or not at all.

On the way out of ``transaction()`` it takes the events the saved entities recorded, appends
them to the outbox and hands each to the bus, whose handlers may save more entities (and so
record more events), until none is left; then it wakes the outbox's readers and the database
commits. A rolled-back transaction leaves no event and takes its entities' events with it.
Side effects deferred during the transaction (after-commit hooks) run once it has committed,
and never for one rolled back.

Every use case opens its transaction here. One use case called by another (a command that
creates a document through the entity service, a handler of an event) joins the transaction
already open: it commits, with its events, when the outermost one ends, or not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Generic, Protocol

from domains.kernel.audit import AuditEntry, AuditLog, AuditOrigin, change_entry
from domains.kernel.bus import C, MessageBus
from domains.kernel.entity import Entity, EntitySpec
from domains.kernel.events import DomainEvent

log = logging.getLogger("hrgraph.unit_of_work")


class Transactional(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Commits what ran inside when it ends, rolls back when it raises."""
        ...


class Outbox(Protocol):
    """Where events are written in the transaction of their change (``adapters/sql/outbox.py``)."""

    async def lock(self) -> None:
        """Taken before the transaction's first append: writers then commit in id order."""
        ...

    async def append(self, events: Sequence[DomainEvent]) -> int:
        """Writes the events in order; returns the last one's id."""
        ...

    async def wake(self, last_id: int) -> None:
        """Tells the readers there is more up to ``last_id``, once the transaction commits
        (never on rollback)."""
        ...


class UnitOfWork(Generic[C]):
    def __init__(
        self, database: Transactional, outbox: Outbox, bus: MessageBus[C], audit: AuditLog | None = None
    ) -> None:
        self.database = database
        self.outbox = outbox
        self.bus = bus
        self.audit = audit
        self.origin = AuditOrigin()
        """Who the operation acts as, and from where: what its audit entries name."""
        self.commands: C | None = None
        self._seen: list[Entity] = []
        self._entries: list[AuditEntry] = []
        self._after_commit: list[Callable[[], Awaitable[None]]] = []
        self._active = False
        self._recording = asyncio.Lock()

    def serve(self, commands: C) -> None:
        """The operation's commands, given to the handlers of its events."""
        self.commands = commands

    def saved(self, entity: Entity) -> None:
        """Called by the store for each entity it inserted or updated."""
        if all(seen is not entity for seen in self._seen):
            self._seen.append(entity)

    def changed(self, spec: EntitySpec[Any], before: Mapping[str, Any] | None, entity: Entity) -> None:
        """Called by the store with the row as it was (None for an insert) and as written."""
        if self.audit is not None:
            self._entries.append(change_entry(spec, before, entity, self.origin))

    async def record(self, entries: Sequence[AuditEntry]) -> None:
        """``domains.kernel.audit.AuditRecorder``: in the transaction running, or in one of
        their own (a read that issues download links)."""
        if self.audit is None or not entries:
            return
        async with self._recording:
            if self._active:
                self._entries.extend(entries)
                return
            async with self.transaction():
                self._entries.extend(entries)

    def defer(self, action: Callable[[], Awaitable[None]]) -> None:
        """``domains.kernel.ports.AfterCommit``: runs ``action`` once the transaction committed."""
        if not self._active:
            raise RuntimeError("after-commit actions need a transaction")
        self._after_commit.append(action)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        if self._active:
            yield  # joins the open one, which publishes and commits
            return
        self._active = True
        try:
            async with self.database.transaction():
                yield
                await self._publish()
        except BaseException:
            self._after_commit.clear()
            raise
        finally:
            self._active = False
            self._entries.clear()
            for entity in self._seen:
                entity.take_events()  # published, or rolled back with their change
            self._seen.clear()
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            try:
                await action()
            except Exception:
                # The change is committed; a failing side effect must not undo the answer.
                log.exception("after-commit action failed")

    def _collect(self) -> list[DomainEvent]:
        return [event for entity in self._seen for event in entity.take_events()]

    async def _publish(self) -> None:
        batch = self._collect()
        if batch:
            await self.outbox.lock()
            last_id = 0
            while batch:
                last_id = max(last_id, await self.outbox.append(batch))
                for event in batch:
                    assert self.commands is not None, "the unit of work serves no commands"
                    await self.bus.handle(event, self.commands)
                batch = self._collect()
            await self.outbox.wake(last_id)
        # Last, after every handler's changes: the chain's lock is held from here to the commit.
        if self._entries and self.audit is not None:
            entries, self._entries = self._entries, []
            await self.audit.append(self.origin, entries)
