"""The relay: committed outbox events become jobs, once per consumer.

Each consumer has a cursor (``relay_cursors``): the id of the last event handed to it. One
step reads the events after the cursor, enqueues a job per event the consumer wants, and moves
the cursor, all in one transaction: a relay that dies mid-step enqueued nothing and moved
nothing. The cursor's row is locked (``FOR UPDATE SKIP LOCKED``), so two relays (two worker
processes) never hand out the same event twice: the second skips the consumer this round.
Outbox writers commit in the order of their ids (``adapters/sql/outbox.py``), so a cursor never
passes an event that is yet to commit.

The jobs are inserted with procrastinate's own SQL function (``procrastinate_defer_jobs_v1``)
on the relay's connection: that is what puts them in the cursor's transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger("hrgraph.relay")
CHANNEL = "hrgraph_events"

DEFER = """
SELECT procrastinate_defer_jobs_v1(array_agg(
    ROW(%(queue)s, %(task)s, 0, %(lock)s, NULL, jsonb_build_object('event_id', e.id), NULL)
        ::procrastinate_job_to_defer_v1
    ORDER BY e.id))
  FROM unnest(%(ids)s::bigint[]) AS e(id)
"""


@dataclass(frozen=True)
class Consumer:
    """Gets a job ``task`` with ``{"event_id": id}`` for every event of ``event_types``.
    ``lock``: jobs sharing it run one at a time, in id order (procrastinate's locks)."""

    name: str
    task: str
    event_types: frozenset[str]
    queue: str = "default"
    lock: str | None = None


class Relay:
    def __init__(self, pool: AsyncConnectionPool, consumers: Sequence[Consumer], batch_size: int = 500) -> None:
        self.pool = pool
        self.consumers = consumers
        self.batch_size = batch_size

    async def step(self) -> int:
        """Hands every consumer what waits for it; the number of jobs enqueued."""
        total = 0
        for consumer in self.consumers:
            while True:
                read, enqueued = await self._step(consumer)
                total += enqueued
                if read < self.batch_size:
                    break
        return total

    async def _step(self, consumer: Consumer) -> tuple[int, int]:
        async with self.pool.connection() as conn, conn.transaction():
            # a consumer seen for the first time starts after what is already there
            await conn.execute(
                "INSERT INTO relay_cursors (consumer, last_event_id) SELECT %s, coalesce(max(id), 0) FROM events"
                " ON CONFLICT (consumer) DO NOTHING",
                (consumer.name,),
            )
            cursor = await conn.execute(
                "SELECT last_event_id FROM relay_cursors WHERE consumer = %s FOR UPDATE SKIP LOCKED", (consumer.name,)
            )
            row = await cursor.fetchone()
            if row is None:  # another relay is at it
                return 0, 0
            events = await (
                await conn.execute(
                    "SELECT id, type FROM events WHERE id > %s ORDER BY id LIMIT %s", (row[0], self.batch_size)
                )
            ).fetchall()
            if not events:
                return 0, 0
            wanted = [event_id for event_id, event_type in events if event_type in consumer.event_types]
            if wanted:
                await conn.execute(
                    DEFER, {"queue": consumer.queue, "task": consumer.task, "lock": consumer.lock, "ids": wanted}
                )
            await conn.execute(
                "UPDATE relay_cursors SET last_event_id = %s, updated_at = now() WHERE consumer = %s",
                (events[-1][0], consumer.name),
            )
            return len(events), len(wanted)

    async def run(self, dsn: str, poll_seconds: float, stop: asyncio.Event) -> None:
        """Steps whenever the outbox notifies, and every ``poll_seconds`` anyway, until ``stop``."""
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as listener:
                    await listener.execute(f"LISTEN {CHANNEL}")
                    while not stop.is_set():
                        await self.step()
                        # wakes at the first notification, or after poll_seconds
                        async for _ in listener.notifies(timeout=poll_seconds, stop_after=1):
                            pass
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database went away: reconnect, the cursors lose nothing
                log.warning("relay lost its connection (%s: %s); reconnecting", type(error).__name__, error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)
