"""Engine and the per-request database handle (the unit of work).

Sibling resolvers and dataloader batches run concurrently, and one connection must never
serve two coroutines at once. So a read outside a transaction checks a connection out of the
pool for that one statement (autocommit, no BEGIN/ROLLBACK round trips); a write runs in
``transaction()``, which holds one connection, serialises its statements with a lock, commits
at the end and only then runs the after-commit actions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from adapters.sql import outbox
from domains.kernel.events import DomainEvent, EventHandler

log = logging.getLogger("hrgraph.sql")


def asyncpg_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    # No reset when a connection goes back to the pool: reads run in AUTOCOMMIT and writes
    # in ``transaction()``, which commits or rolls back itself, so none comes back inside a
    # transaction and the pool's rollback would only be work on every checkout.
    # At most twice ``pool_size`` connections as before, but all kept once opened: overflow
    # connections were closed on return and reopened (TCP, TLS probe, startup) under load.
    # asyncpg prepares every statement; after five runs PostgreSQL may switch to a generic plan
    # that ignores the parameters' values (an ILIKE pattern, an IN list, a page size): on
    # bench/ W4 that plan took 5x longer in SQL. Planning with the values costs far less.
    return create_async_engine(
        asyncpg_url(url),
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_reset_on_return=None,
        connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
    )


class RequestDatabase:
    """One per request (or WebSocket operation). Counts its statements for developer insight."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._tx: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._after_commit: list[Callable[[], Awaitable[None]]] = []
        self._events: list[DomainEvent] = []
        self._handlers: dict[str, list[EventHandler]] = {}
        self.statements = 0
        self.seconds = 0.0

    async def execute(self, statement: sa.Executable, parameters: dict[str, Any] | None = None) -> sa.CursorResult[Any]:
        started = time.perf_counter()
        try:
            if self._tx is not None:
                async with self._lock:
                    return await self._tx.execute(statement, parameters)
            async with self._reads.connect() as conn:
                return await conn.execute(statement, parameters)
        finally:
            self.statements += 1
            self.seconds += time.perf_counter() - started

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Everything inside commits together or not at all, its events included; then
        after-commit actions run."""
        if self._tx is not None:
            raise RuntimeError("transactions do not nest")
        async with self._engine.connect() as conn:
            self._tx = conn
            try:
                async with conn.begin():
                    yield
                    await self._write_events()
            except BaseException:
                self._after_commit.clear()
                self._events.clear()
                raise
            finally:
                self._tx = None
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            try:
                await action()
            except Exception:
                # The change is committed; a failing side effect must not undo the answer.
                log.exception("after-commit action failed")

    def defer(self, action: Callable[[], Awaitable[None]]) -> None:
        if self._tx is None:
            raise RuntimeError("after-commit actions need a transaction")
        self._after_commit.append(action)

    # ---- domain events -----------------------------------------------------------------

    def on(self, event_type: str, handler: EventHandler) -> None:
        """Registers an in-process handler, run in the recording transaction before commit."""
        self._handlers.setdefault(event_type, []).append(handler)

    def record(self, event: DomainEvent) -> None:
        if self._tx is None:
            raise RuntimeError("domain events need a transaction")
        self._events.append(event)

    async def _write_events(self) -> None:
        """Writes recorded events to the outbox and runs their handlers, until handlers record
        no more; then wakes the listeners (NOTIFY is delivered on commit, never on rollback)."""
        if not self._events:
            return
        await self.execute(outbox.LOCK)
        last_id = 0
        while self._events:
            batch, self._events = self._events, []
            ids = (await self.execute(outbox.insert(batch))).scalars().all()
            last_id = max(last_id, *ids)
            for event in batch:
                for handler in self._handlers.get(event.type, ()):
                    await handler(event)
        await self.execute(outbox.notify(last_id))
