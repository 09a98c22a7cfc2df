"""The app's engine behind Debian's PgBouncer in transaction pooling mode: with
``DATABASE_TRANSACTION_POOLER`` its reads and writes hold from many more clients than PgBouncer
has server connections; asyncpg's default (named, cached prepared statements) breaks there,
which is why the setting exists. Skipped without pgbouncer, unless CI (.ci/run installs it)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.database import RequestDatabase, asyncpg_url, create_engine
from app.wiring import build_event_feed
from tests.pgbouncer import ENABLED, pgbouncer

if not shutil.which("pgbouncer") and not os.path.exists("/usr/sbin/pgbouncer"):
    if os.environ.get("CI"):
        raise RuntimeError("pgbouncer is missing (apt-get install pgbouncer; .ci/run does)")
    pytest.skip("pgbouncer is not installed", allow_module_level=True)

STATEMENTS = [
    sa.text("SELECT count(*) FROM users WHERE role = :role").bindparams(role="EMPLOYEE"),
    sa.text("SELECT email FROM users ORDER BY email LIMIT :n").bindparams(n=3),
    sa.text("SELECT name FROM companies WHERE name <> :name").bindparams(name=""),
]


@pytest.fixture(scope="module")
def bouncer(direct_database_url: str) -> Iterator[str]:
    with pgbouncer(direct_database_url) as url:
        yield url


async def _many_reads(engines: list[Any], rounds: int = 40) -> None:
    async def one(i: int) -> None:
        db = RequestDatabase(engines[i % len(engines)])
        await db.execute(STATEMENTS[i % len(STATEMENTS)])

    await asyncio.gather(*(one(i) for i in range(rounds * len(engines))))


async def test_reads_and_writes_hold_through_transaction_pooling(bouncer, demo) -> None:
    engines = [create_engine(bouncer, pool_size=6, transaction_pooler=True) for _ in range(3)]
    try:
        for _ in range(3):  # the same statements again and again, on 36 clients over 8 servers
            await _many_reads(engines)
        db = RequestDatabase(engines[0])
        marker = f"pgbouncer-{uuid.uuid4().hex[:6]}"
        async with db.transaction():
            await db.execute(
                sa.text("UPDATE companies SET name = name || :m WHERE name = 'Acme Corp'").bindparams(m=marker)
            )
            await db.execute(
                sa.text("UPDATE companies SET name = 'Acme Corp' WHERE name LIKE :p").bindparams(p=f"%{marker}")
            )
        names = (await RequestDatabase(engines[1]).execute(sa.text("SELECT name FROM companies"))).scalars().all()
        assert "Acme Corp" in names
    finally:
        for engine in engines:
            await engine.dispose()


async def _again_on_another_server(engine: Any, holder: Any) -> None:
    """Runs a statement, then runs it again while another client holds the server connection
    it ran on (PgBouncer hands out the last idle one first), so it lands on another."""
    async with engine.connect() as conn:
        await conn.execute(STATEMENTS[0])
    async with holder.connect() as held:
        await held.execute(sa.text("SELECT 1"))  # inside BEGIN: that server stays this client's
        async with engine.connect() as conn:
            await conn.execute(STATEMENTS[0])


async def test_cached_named_statements_break_there(bouncer, demo) -> None:
    """asyncpg's default keeps each statement prepared under a name on the server connection it
    was prepared on; PgBouncer may run the client's next statement on another, where that name
    does not exist. With the setting, the same sequence holds. (The direct connection's
    ``plan_cache_mode`` start-up parameter PgBouncer refuses outright.)"""
    holder = create_engine(bouncer, pool_size=1, transaction_pooler=True)
    cached = create_async_engine(asyncpg_url(bouncer), pool_size=1, max_overflow=0)
    pooled = create_engine(bouncer, pool_size=1, transaction_pooler=True)
    refused = create_engine(bouncer, pool_size=1)
    try:
        with pytest.raises(DBAPIError, match=r"prepared statement .* does not exist"):
            await _again_on_another_server(cached, holder)
        await _again_on_another_server(pooled, holder)
        with pytest.raises(Exception, match="plan_cache_mode"):
            async with refused.connect() as conn:
                await conn.execute(STATEMENTS[0])
    finally:
        for engine in (holder, cached, pooled, refused):
            await engine.dispose()


def test_the_outbox_feed_listens_on_its_own_direct_connection(settings, database_url, direct_database_url) -> None:
    """LISTEN does not survive transaction pooling: DATABASE_LISTEN_URL gives the feed its own."""
    pooled = settings.model_copy(
        update={"database_transaction_pooler": True, "database_listen_url": direct_database_url}
    )
    engine = create_engine("postgresql://app@pgbouncer.invalid:6432/hr", transaction_pooler=True)
    feed = build_event_feed(pooled, engine)
    assert sa.engine.make_url(feed.dsn).port == sa.engine.make_url(direct_database_url).port
    assert sa.engine.make_url(feed.dsn).database == sa.engine.make_url(direct_database_url).database
    unset = build_event_feed(pooled.model_copy(update={"database_listen_url": None}), engine)
    assert unset.dsn == "postgresql://app@pgbouncer.invalid:6432/hr"
    if ENABLED:  # this run serves the app through PgBouncer: the fixtures say so
        assert database_url != direct_database_url and settings.database_listen_url == direct_database_url
