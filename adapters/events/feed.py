"""The event feed of one process: ONE listening connection, fan-out to its own subscribers.

Writers commit events to the ``events`` table (the outbox) and ``NOTIFY hrgraph_events``. This
process LISTENs on one dedicated connection; a notification only wakes it. It then reads the
outbox by cursor (``id > cursor``, in id order; writers commit in id order) and hands every
event to every local subscriber's queue. Nothing travels in the notification itself, so a
dropped listening connection loses nothing: after reconnecting, the feed reads on from its
cursor. Subscribers that resume after a known id read the gap from the table themselves.

Raw SQL on purpose: this package does not import the SQL adapter (adapter packages stay
independent); the table's shape is the published contract.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import asyncpg

from domains.workflow.live import OutboxEvent

T = TypeVar("T")

log = logging.getLogger("hrgraph.events")

CHANNEL = "hrgraph_events"
APPLICATION_NAME = "hrgraph-listener"
DECODED_KEPT = 1024
_COLUMNS = "id, type, aggregate, aggregate_id, company_id, actor_id, payload, occurred_at"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    type: str
    aggregate: str
    aggregate_id: uuid.UUID
    company_id: uuid.UUID
    actor_id: uuid.UUID | None
    payload: dict[str, Any]
    occurred_at: datetime


def _event(row: asyncpg.Record) -> StoredEvent:
    payload = row["payload"]
    return StoredEvent(
        id=row["id"],
        type=row["type"],
        aggregate=row["aggregate"],
        aggregate_id=row["aggregate_id"],
        company_id=row["company_id"],
        actor_id=row["actor_id"],
        payload=json.loads(payload) if isinstance(payload, str) else dict(payload),
        occurred_at=row["occurred_at"],
    )


class LiveEvents:
    """One subscriber's queue of live events (after ``start_id``). Iterate; ``close`` when done."""

    def __init__(self, feed: OutboxFeed, start_id: int, max_pending: int) -> None:
        self._feed = feed
        self._queue: asyncio.Queue[StoredEvent | None] = asyncio.Queue()
        self._max_pending = max_pending
        self.start_id = start_id
        self.overflowed = False

    def _offer(self, event: StoredEvent) -> None:
        if self._queue.qsize() >= self._max_pending:
            # A consumer this far behind ends its stream; it resumes with afterEventId.
            self.overflowed = True
            self._end()
            return
        self._queue.put_nowait(event)

    def _end(self) -> None:
        self._feed._subscribers.discard(self)
        self._queue.put_nowait(None)

    def __aiter__(self) -> LiveEvents:
        return self

    async def __anext__(self) -> StoredEvent:
        event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)  # stays ended
            raise StopAsyncIteration
        return event

    def close(self) -> None:
        self._feed._subscribers.discard(self)


class OutboxFeed:
    def __init__(
        self,
        dsn: str,
        *,
        retention: timedelta,
        batch_size: int = 500,
        poll_seconds: float = 5.0,
        prune_seconds: float = 300.0,
        reconnect_seconds: float = 0.5,
        max_pending: int = 10_000,
    ) -> None:
        self.dsn = dsn
        self.retention = retention
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.prune_seconds = prune_seconds
        self.reconnect_seconds = reconnect_seconds
        self.max_pending = max_pending
        self.cursor = 0
        self.listener_pid: int | None = None
        self.connected = asyncio.Event()
        self._subscribers: set[LiveEvents] = set()
        self._decoded: dict[tuple[int, Callable[..., Any]], Any] = {}
        self._pool: asyncpg.Pool | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._positioned = asyncio.Event()

    # ---- life ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Returns at once; the feed connects (and keeps reconnecting) in the background."""
        self._pool = await asyncpg.create_pool(self.dsn, min_size=0, max_size=4)
        self._task = asyncio.create_task(self._run(), name="outbox-feed")

    async def stop(self) -> None:
        self._stopping = True
        for subscriber in list(self._subscribers):
            subscriber._end()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pool is not None:
            await self._pool.close()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    # ---- what subscribers use ------------------------------------------------------------

    async def subscribe(self, timeout: float = 10.0) -> LiveEvents:
        """Live events from now on (ids above ``start_id``), in order."""
        async with asyncio.timeout(timeout):
            await self._positioned.wait()
        live = LiveEvents(self, self.cursor, self.max_pending)
        self._subscribers.add(live)
        return live

    async def read_after(self, after_id: int, limit: int) -> Sequence[StoredEvent]:
        rows = await self._fetch(f"SELECT {_COLUMNS} FROM events WHERE id > $1 ORDER BY id LIMIT $2", after_id, limit)
        return [_event(r) for r in rows]

    async def oldest_id(self) -> int | None:
        rows = await self._fetch("SELECT min(id) AS id FROM events")
        return rows[0]["id"] if rows else None

    def decoded(self, event: OutboxEvent, decode: Callable[[OutboxEvent], T]) -> T:
        """``decode(event)`` once per event and decoder for every watcher of the process: one
        event is handed to all of them, and each would otherwise parse it again."""
        key = (event.id, decode)
        if key not in self._decoded:
            if len(self._decoded) >= DECODED_KEPT:
                self._decoded.pop(next(iter(self._decoded)))
            self._decoded[key] = decode(event)
        return cast(T, self._decoded[key])

    async def last_id_handed_out(self) -> int:
        """The newest id the outbox's sequence gave out, committed or not (0 before any)."""
        rows = await self._fetch(
            "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'id')::regclass), 0) AS id"
        )
        return int(rows[0]["id"])

    async def prune(self) -> int:
        """Deletes events older than the retention, always keeping the newest one (so a resume
        older than what is kept can tell that events were pruned)."""
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                "DELETE FROM events WHERE occurred_at < now() - $1::interval"
                " AND id < (SELECT max(id) FROM events)",
                self.retention,
            )
        return int(status.split()[-1])

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        assert self._pool is not None, "the feed is not started"
        async with self._pool.acquire() as conn:
            return list(await conn.fetch(sql, *args))

    # ---- the listening loop --------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        while not self._stopping:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn, server_settings={"application_name": APPLICATION_NAME})
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, lambda *_: self._wake.set())
                self.listener_pid = conn.get_server_pid()
                if not self._positioned.is_set():  # live events start after what is already there
                    self.cursor = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM events"))
                    self._positioned.set()
                self.connected.set()
                self._wake.set()  # read on from the cursor: events may have come while away
                while not lost.is_set():
                    await self._wait_for_wake(lost)
                    self._wake.clear()
                    await self._catch_up()
                    if loop.time() >= next_prune:
                        next_prune = loop.time() + self.prune_seconds
                        await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database went away: reconnect, lose nothing
                log.warning("event listener lost its connection (%s); reconnecting", type(error).__name__)
            finally:
                self.connected.clear()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), timeout=1)
            if not self._stopping:
                await asyncio.sleep(self.reconnect_seconds)

    async def _wait_for_wake(self, lost: asyncio.Event) -> None:
        waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(lost.wait())}
        try:
            await asyncio.wait(waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _catch_up(self) -> None:
        while True:
            batch = await self.read_after(self.cursor, self.batch_size)
            for event in batch:
                self.cursor = event.id
                for subscriber in list(self._subscribers):
                    subscriber._offer(event)
            if len(batch) < self.batch_size:
                return
