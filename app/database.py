"""Where the database is: ``DATABASE_URL``, or an embedded PostgreSQL under ``.data/``.

alembic and pgserver are imported inside the functions that need them: a served request
needs neither, and importing them costs start-up time (a Lambda cold start, ``bench.coldstart``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from app.settings import ROOT, Settings
from app.startup import StartupError

if TYPE_CHECKING:
    import asyncpg
    from alembic.config import Config

log = logging.getLogger("hrgraph.database")
EMBEDDED_DATABASE = "hrgraph"
_embedded: list[Any] = []  # keeps the server handle alive for the life of the process


def _server(data_dir: Path) -> Any:
    with warnings.catch_warnings():
        # platformdirs (under pgserver) warns on import when XDG_RUNTIME_DIR is unset, as in
        # containers and CI; pgserver keeps nothing there.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver  # only needed without DATABASE_URL

    return pgserver.get_server(data_dir / "pg", cleanup_mode="stop")


def _with_database(server: Any, database: str) -> str:
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return str(server.get_uri(database))


def embedded_url(data_dir: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Starts (or joins) the embedded server; it stops when the last process using it exits."""
    server = _server(data_dir)
    _embedded.append(server)
    return _with_database(server, database)


@contextmanager
def embedded_server(data_dir: Path, database: str = "postgres", stop_timeout: float = 15.0) -> Iterator[str]:
    """A private embedded server for the block (the tests' server when there is no
    ``TEST_DATABASE_URL``). It is stopped, and its postmaster is seen gone, before the block
    ends, so the caller may delete ``data_dir`` afterwards; a survivor raises."""
    server = _server(data_dir)
    pid = server.get_pid()
    try:
        yield _with_database(server, database)
    finally:
        server.cleanup()
        deadline = time.monotonic() + stop_timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the embedded PostgreSQL (pid {pid}, {data_dir}) is still running after stop")
            time.sleep(0.05)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user (the server runs as `pgserver` under root)
        return True
    return True


def resolve_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    if settings.production:
        raise StartupError("DATABASE_URL is not set: production needs postgresql://user:pass@host:5432/db")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # `serve` says so in its banner; `token` and `migrate` have nothing to add.
    log.debug("no DATABASE_URL: using the embedded PostgreSQL in %s", settings.data_dir / "pg")
    return embedded_url(settings.data_dir)


def driver_dsn(url: str) -> str:
    """``url`` as asyncpg takes it: ``postgresql+asyncpg://`` (SQLAlchemy's spelling) becomes
    ``postgresql://``. Without SQLAlchemy, whose import costs ``app token`` a quarter second."""
    return re.sub(r"^postgres(?:ql)?\+\w+://", "postgresql://", url)


def shown_dsn(url: str) -> str:
    """``url`` fit for a message: the password, if any, replaced by ``***``."""
    parts = urlsplit(driver_dsn(url))
    if parts.password:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    return urlunsplit(parts)


async def connect(url: str, timeout: float = 5.0) -> asyncpg.Connection:
    """One connection, or a one-line StartupError saying why a wrong or dead ``DATABASE_URL``
    gave none."""
    import asyncpg

    where = shown_dsn(url)
    try:
        return await asyncio.wait_for(asyncpg.connect(driver_dsn(url)), timeout)
    except TimeoutError:
        raise StartupError(
            f"cannot reach the database at {where} within {timeout:g} s: check DATABASE_URL "
            "(host, port, firewall) and that PostgreSQL is up"
        ) from None
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise StartupError(
            f"cannot connect to the database at {where}: {reason}. Start PostgreSQL or fix DATABASE_URL"
            " (unset it outside production to use the embedded server)"
        ) from None


async def check_reachable(url: str, timeout: float = 5.0) -> None:
    """Connects once, so that a wrong or dead ``DATABASE_URL`` is one clear line at start-up."""
    conn = await connect(url, timeout)
    await conn.close()


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    return config


def migrate(url: str) -> None:
    """Applies pending migrations. Alembic's env runs its own event loop, so call it off-loop."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


async def migrate_async(url: str) -> None:
    await asyncio.to_thread(migrate, url)
