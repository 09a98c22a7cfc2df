"""Alembic environment: runs migrations through the async engine (asyncpg)."""

from __future__ import annotations

import asyncio
import os

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from adapters.sql.database import create_engine
from adapters.sql.jobs import QUEUE_TABLE_PREFIX
from adapters.sql.tables import build_tables
from domains.catalog import build_registry

config = context.config
metadata = sa.MetaData()
build_tables(build_registry(), metadata)
target_metadata = metadata


def _url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("DATABASE_URL is not set (or use `python -m app migrate`)")
    return str(url)


def _ours(name: str | None, type_: str, _parents: object) -> bool:
    """Autogenerate leaves the queue library's tables alone (migration 0007 applies its SQL)."""
    return not (type_ == "table" and (name or "").startswith(QUEUE_TABLE_PREFIX))


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True, include_name=_ours)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url(), pool_size=1)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
