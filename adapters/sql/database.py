"""Engine and the per-request database handle: its transaction and its statement count.

The unit of work around it, with the events, their handlers and the after-commit actions, is
the kernel's (``domains/kernel/unit_of_work.py``).

Sibling resolvers and dataloader batches run concurrently, and one connection must never
serve two coroutines at once. So a read outside a transaction checks a connection out of the
pool for that one statement (autocommit, no BEGIN/ROLLBACK round trips); a write runs in
``transaction()``, which holds one connection, serialises its statements with a lock and
commits at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from adapters.sql.rls import NOBODY, DatabaseScope, scope_statement
from domains.kernel.errors import Unavailable
from domains.kernel.principal import Principal

log = logging.getLogger("hrgraph.sql")


def asyncpg_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(
    url: str, pool_size: int = 10, *, role: str | None = None, transaction_pooler: bool = False
) -> AsyncEngine:
    # No reset when a connection goes back to the pool: reads run in AUTOCOMMIT and writes
    # in ``transaction()``, which commits or rolls back itself, so none comes back inside a
    # transaction and the pool's rollback would only be work on every checkout.
    # At most twice ``pool_size`` connections as before, but all kept once opened: overflow
    # connections were closed on return and reopened (TCP, TLS probe, startup) under load.
    # asyncpg prepares every statement; after five runs PostgreSQL may switch to a generic plan
    # that ignores the parameters' values (an ILIKE pattern, an IN list, a page size): on
    # bench/ W4 that plan took 5x longer in SQL. Planning with the values costs far less.
    # Behind a transaction pooler no startup parameter reaches the server connection a
    # statement runs on (PgBouncer refuses them), so ``role`` cannot be set there: the
    # requests then run as DATABASE_URL's user (README, "Row-level security").
    if transaction_pooler:
        return create_async_engine(
            asyncpg_url(url),
            pool_size=2 * pool_size,
            max_overflow=0,
            pool_reset_on_return=None,
            connect_args=TRANSACTION_POOLER_ARGS,
        )
    # ``role``: every connection takes that role at its start (a startup setting, no
    # statement): the application's requests run as a role row-level security applies to.
    server_settings = {"plan_cache_mode": "force_custom_plan"}
    if role is not None:
        server_settings["role"] = role
    return create_async_engine(
        asyncpg_url(url),
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_reset_on_return=None,
        connect_args={"server_settings": server_settings},
    )


def _unnamed() -> str:
    return ""


TRANSACTION_POOLER_ARGS: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": _unnamed,
}
"""Behind PgBouncer in transaction pooling (or RDS Proxy), a client's next statement may run on
another server connection, so no statement may outlive the one round of messages that runs
it: asyncpg's and SQLAlchemy's statement caches are off and SQLAlchemy prepares the unnamed
statement (asyncpg sends Parse, Describe and Flush, then Bind, Execute and Sync: one server
from prepare to result, and the next Parse replaces it, so nothing piles up on the servers
and no name can clash with another client's). PgBouncer 1.21's ``max_prepared_statements``
would keep named statements instead, but Debian 12 ships 1.18, and managed poolers differ.
No ``plan_cache_mode`` in the start-up packet (PgBouncer refuses parameters it does not
know): a statement parsed afresh each time is planned with its values anyway."""


CONNECT_SECONDS = 5.0
_UNREACHABLE = (OSError, TimeoutError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    """A pooled connection, or ``TimeoutError`` when the server does not answer in time.

    A server that answers but refuses the connection ("not currently accepting connections"
    after ``ALLOW_CONNECTIONS false``, "the database system is starting up", too many
    clients) raises before any statement ran: that is an outage too, never the request's fault.
    """
    conn = engine.connect()
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            await conn.start()
    except DBAPIError as error:
        raise _unavailable(error) from error
    return conn


def _unavailable(error: BaseException) -> Unavailable:
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    log.warning("database unavailable: %s%s", type(cause).__name__, f": {reason}" if reason else "")
    return Unavailable("the database is unavailable right now; try again shortly")


_SCOPE_KEY = "hrgraph_scope"


class RequestDatabase:
    """One per request (or WebSocket operation). Counts its statements for developer insight.

    ``scope``: who the database's row-level security answers (``adapters/sql/rls.py``), on an
    engine whose connections run as the application's role; None on the owner's engine
    (migrations, seed, worker, CLI), which the policies do not apply to. Setting the scope is
    not one of the request's statements (``statements``); ``scope_statements`` counts it.
    """

    def __init__(self, engine: AsyncEngine, scope: DatabaseScope | None = None) -> None:
        self._engine = engine
        self.scope = scope
        self.scope_statements = 0
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._tx: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self.statements = 0
        self.seconds = 0.0

    def signing_in(self, claimed: Principal) -> None:
        """Sign-in reads the token's user as the caller she claims to be: the policies let her
        own user row through whatever her stored company (``adapters.auth.sign_in.Caller``)."""
        if self.scope is not None:
            self.scope = DatabaseScope.of(claimed)

    def signed_in(self, principal: Principal | None) -> None:
        """From now on the handle answers as the stored user, or as nobody."""
        if self.scope is not None:
            self.scope = DatabaseScope.of(principal) if principal is not None else NOBODY

    async def execute(self, statement: sa.Executable, parameters: dict[str, Any] | None = None) -> sa.CursorResult[Any]:
        """A lost connection (a restarted server, a killed backend) is retried once for a read
        outside a transaction, where nothing can have happened twice; a database that cannot be
        reached (within ``CONNECT_SECONDS``) is ``Unavailable``, never an unexpected error."""
        started = time.perf_counter()
        try:
            if self._tx is not None:
                async with self._lock:
                    return await self._execute_in_transaction(statement, parameters)
            retry = isinstance(statement, sa.Select)
            while True:
                try:
                    return await self._read(statement, parameters)
                except DBAPIError as error:
                    if not error.connection_invalidated:
                        raise
                    if not retry:
                        raise _unavailable(error) from error
                    retry = False  # the pool has dropped its stale connections: one retry suffices
                    log.warning("database connection lost; retrying the read once")
                except _UNREACHABLE as error:
                    raise _unavailable(error) from error
        finally:
            self.statements += 1
            self.seconds += time.perf_counter() - started

    async def _execute_in_transaction(
        self, statement: sa.Executable, parameters: dict[str, Any] | None
    ) -> sa.CursorResult[Any]:
        assert self._tx is not None
        first = not self._tx.in_transaction()
        try:
            if first:
                await self._scope_transaction(self._tx)
            return await self._tx.execute(statement, parameters)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            if not first:
                raise _unavailable(error) from error
        # The connection died before its transaction began (BEGIN goes out with the first
        # statement): nothing happened yet, so the transaction starts again on a fresh one.
        log.warning("database connection lost; starting the transaction again")
        await self._tx.close()
        try:
            self._tx = await _connect(self._engine)
            await self._scope_transaction(self._tx)
            return await self._tx.execute(statement, parameters)
        except DBAPIError as error:
            if error.connection_invalidated:
                raise _unavailable(error) from error
            raise
        except _UNREACHABLE as error:
            raise _unavailable(error) from error

    async def _read(self, statement: sa.Executable, parameters: dict[str, Any] | None) -> sa.CursorResult[Any]:
        conn = await _connect(self._reads)
        try:
            if self.scope is not None and conn.info.get(_SCOPE_KEY) != self.scope:
                # For the connection, not a transaction (there is none): the next read on it
                # by the same caller needs no statement of its own. ``info`` lives and dies
                # with the driver's connection, so a new connection is always set.
                conn.info.pop(_SCOPE_KEY, None)
                await conn.execute(*scope_statement(self.scope, local=False))
                self.scope_statements += 1
                conn.info[_SCOPE_KEY] = self.scope
            return await conn.execute(statement, parameters)
        except BaseException:
            # The pool does not reset connections on return (see ``create_engine``): one whose
            # statement failed half-way (a value the driver could not encode, a cancelled
            # request) may be mid-protocol, so it is dropped rather than handed to the next read.
            await conn.invalidate()
            raise
        finally:
            await conn.close()

    async def _scope_transaction(self, conn: AsyncConnection) -> None:
        """The caller, for this transaction only (``set_config(..., true)``): it starts it."""
        if self.scope is not None:
            await conn.execute(*scope_statement(self.scope, local=True))
            self.scope_statements += 1

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Everything inside commits together or not at all."""
        if self._tx is not None:
            raise RuntimeError("transactions do not nest")
        try:
            self._tx = await _connect(self._engine)
        except _UNREACHABLE as error:
            raise _unavailable(error) from error
        try:
            # The connection begins on its first statement, and may be replaced before it
            # (``_execute_in_transaction``): commit and roll back whichever one is current.
            try:
                yield
                try:
                    await self._tx.commit()
                except DBAPIError as error:
                    if error.connection_invalidated:
                        raise _unavailable(error) from error
                    raise
            except BaseException:
                try:
                    await self._tx.rollback()
                except Exception:  # a dead connection has nothing to roll back; keep the first error
                    log.warning("rollback failed", exc_info=True)
                raise
        finally:
            tx, self._tx = self._tx, None
            await tx.close()
