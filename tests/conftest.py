"""Real parts for integration and API tests: a fresh PostgreSQL database per test run (on
``TEST_DATABASE_URL``'s server, else the embedded one), migrated with alembic, and the real
app served by uvicorn on a loopback port. Unit tests use none of this."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from adapters.sql.database import RequestDatabase
from app.database import embedded_server, migrate
from app.settings import Settings
from app.wiring import Container
from domains.kernel.principal import Principal, Role
from tests import pgbouncer


def _admin_dsn(url: str) -> str:
    parsed = sa.engine.make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server to create test databases on."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="hrgraph-test-pg-") as folder:
        os.chmod(folder, 0o755)  # the embedded server runs as its own user when we are root
        # Stopped (and seen gone, else the run errors) before its data folder is deleted.
        with embedded_server(Path(folder), database="postgres") as url:
            yield url


@pytest.fixture(scope="session")
def direct_database_url(server_url: str) -> Iterator[str]:
    """The test run's database, migrated, on PostgreSQL itself."""
    name = f"hrgraph_test_{uuid.uuid4().hex[:10]}"
    admin = _admin_dsn(server_url)

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url(direct_database_url: str) -> Iterator[str]:
    """What the app's parts connect to: PostgreSQL, or PgBouncer in front of it in transaction
    pooling mode with ``TEST_THROUGH_PGBOUNCER=1`` (tests/pgbouncer.py)."""
    if not pgbouncer.ENABLED:
        yield direct_database_url
        return
    with pgbouncer.pgbouncer(direct_database_url) as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, direct_database_url: str) -> Settings:
    # Small pools: a run serves several apps at once (compiled and resolver path, both blob
    # stores, subprocess servers), each keeping its connections, and PostgreSQL allows 100.
    return Settings(
        app_env="test",
        database_url=database_url,
        database_pool_size=4,
        socket_recheck_seconds=1.0,  # how long a socket's lost right may outlive its loss
        database_transaction_pooler=pgbouncer.ENABLED,
        database_listen_url=direct_database_url if pgbouncer.ENABLED else None,
        _env_file=None,
    )  # type: ignore[call-arg]


@pytest.fixture(scope="session")
async def container(settings: Settings, database_url: str) -> AsyncIterator[Container]:
    """The parts on the test's own event loop, for arranging data and direct checks."""
    built = Container.build(settings, database_url)
    yield built
    await built.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, container: Container) -> None:
        from app.http import create_app

        self.container = container
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(create_app(container), host="127.0.0.1", port=self.port, log_config=None, lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(settings: Settings, database_url: str) -> Iterator[LiveServer]:
    """The real ASGI app, served by uvicorn on a loopback port from its own thread and loop."""
    with LiveServer(Container.build(settings, database_url)) as server:
        yield server


@pytest.fixture(scope="session")
def resolver_server(settings: Settings, database_url: str) -> Iterator[LiveServer]:
    """The same app with compiled reads off: every operation goes through the resolvers."""
    with LiveServer(Container.build(settings.model_copy(update={"compiled_reads": False}), database_url)) as server:
        yield server


TABLES = ("documents", "workflows", "users", "companies", "events")


async def reset_database(container: Container) -> None:
    from app.seed import seed_demo

    async with container.engine.begin() as conn:
        await conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    assert await seed_demo(container)


class Demo:
    """The seeded people, and tokens for them."""

    def __init__(self, container: Container, rows: list[Any]) -> None:
        self.container = container
        self.users = {row["email"]: row for row in rows}

    def principal(self, email: str) -> Principal:
        row = self.users[email]
        return Principal(row["id"], row["company_id"], frozenset({Role(row["role"])}), email)

    def token(self, email: str) -> str:
        return self.container.verifier.issue(self.principal(email))

    def id(self, email: str) -> uuid.UUID:
        return uuid.UUID(str(self.users[email]["id"]))


@pytest.fixture
async def demo(container: Container) -> Demo:
    """A database holding exactly the demo data."""
    await reset_database(container)
    async with container.engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT id, company_id, email, role FROM users"))).mappings().all()
    return Demo(container, [dict(r) for r in rows])


@pytest.fixture
def db(container: Container) -> RequestDatabase:
    return RequestDatabase(container.engine)


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, demo: Demo) -> None:
        self.http = http
        self.demo = demo

    async def raw(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        as_user: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if as_user:
            token = self.demo.token(as_user)
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=sent)

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_user: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        response = await self.raw(query, variables, token=token, as_user=as_user)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None, *, as_user: str) -> dict[str, Any]:
        body = await self(query, variables, as_user=as_user)
        assert not body.get("errors"), body["errors"]
        result: dict[str, Any] = body["data"]
        return result


@pytest.fixture
async def gql(live_server: LiveServer, demo: Demo) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        yield GraphQLClient(http, demo)


@pytest.fixture
async def resolver_gql(resolver_server: LiveServer, demo: Demo) -> AsyncIterator[GraphQLClient]:
    """Like ``gql``, on the resolver path only (``COMPILED_READS=false``)."""
    async with httpx.AsyncClient(base_url=resolver_server.url, timeout=30) as http:
        yield GraphQLClient(http, demo)
