"""Where the database is: ``DATABASE_URL``, or an embedded PostgreSQL under ``.data/``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from app.settings import ROOT, Settings

log = logging.getLogger("hrgraph.database")
EMBEDDED_DATABASE = "hrgraph"
_embedded: list[Any] = []  # keeps the server handle alive for the life of the process


def embedded_url(data_dir: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Starts (or joins) the embedded server; it stops when the last process using it exits."""
    import pgserver  # only needed without DATABASE_URL

    server = pgserver.get_server(data_dir / "pg", cleanup_mode="stop")
    _embedded.append(server)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return str(server.get_uri(database))


def resolve_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    if settings.production:
        raise SystemExit("DATABASE_URL must be set in production")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log.info("no DATABASE_URL: using the embedded PostgreSQL in %s", settings.data_dir / "pg")
    return embedded_url(settings.data_dir)


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    return config


def migrate(url: str) -> None:
    """Applies pending migrations. Alembic's env runs its own event loop, so call it off-loop."""
    command.upgrade(alembic_config(url), "head")


async def migrate_async(url: str) -> None:
    await asyncio.to_thread(migrate, url)
