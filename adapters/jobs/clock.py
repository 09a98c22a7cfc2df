"""The movable clock: the system clock plus an offset stored in the database (``clock``), so
that ``python -m app clock advance 8d`` moves time for the server and every worker at once.
Production never reads the offset (``SystemClock``).

psycopg is imported where it is used: a served request never needs it (cold start)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class StoredClock:
    """The system clock plus the stored offset as last read (``refresh``: before a job runs)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.offset = timedelta(0)

    async def refresh(self) -> None:
        self.offset = await offset_now(self.dsn)

    async def follow(self, every_seconds: float = 1.0) -> None:
        """Reads the offset again every ``every_seconds`` until cancelled (a server's clock)."""
        while True:
            with contextlib.suppress(Exception):  # the database may be away: keep the last offset
                await self.refresh()
            await asyncio.sleep(every_seconds)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def read_offset(dsn: str) -> timedelta:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT offset_seconds FROM clock").fetchone()
    return timedelta(seconds=row[0] if row else 0.0)


def advance(dsn: str, by: timedelta) -> timedelta:
    """Moves the clock forward by ``by`` (back with a negative one); the new offset."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO clock (id, offset_seconds) VALUES (true, %s)"
            " ON CONFLICT (id) DO UPDATE SET offset_seconds = clock.offset_seconds + excluded.offset_seconds"
            " RETURNING offset_seconds",
            (by.total_seconds(),),
        ).fetchone()
    assert row is not None
    return timedelta(seconds=row[0])


def reset(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM clock")


async def offset_now(dsn: str) -> timedelta:
    import psycopg

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        row = await (await conn.execute("SELECT offset_seconds FROM clock")).fetchone()
    return timedelta(seconds=row[0] if row else 0.0)
