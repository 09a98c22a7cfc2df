"""The database going away: a killed connection is not the client's problem, and a database that
is down is a quick, typed SERVICE_UNAVAILABLE (and a failing /readyz), not a hang or a 500."""

from __future__ import annotations

import logging
import time
import uuid

import asyncpg
import httpx
import pytest
import sqlalchemy as sa

from adapters.sql.database import RequestDatabase, create_engine
from app.settings import Settings
from app.wiring import Container
from domains.kernel.errors import Unavailable
from domains.kernel.principal import Principal, Role
from tests.conftest import LiveServer, _admin_dsn, _free_port


async def _terminate(database_url: str, pids: set[int]) -> None:
    admin = await asyncpg.connect(_admin_dsn(database_url))
    try:
        await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", list(pids))
    finally:
        await admin.close()


async def _backends(database_url: str) -> set[int]:
    admin = await asyncpg.connect(_admin_dsn(database_url))
    try:
        name = sa.engine.make_url(database_url).database
        rows = await admin.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
        )
        return {r["pid"] for r in rows}
    finally:
        await admin.close()


async def test_a_read_on_a_killed_connection_is_retried_once(database_url) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        db = RequestDatabase(engine)
        pid = (await db.execute(sa.select(sa.func.pg_backend_pid()))).scalar_one()
        await _terminate(database_url, {pid})
        again = (await db.execute(sa.select(sa.func.pg_backend_pid()))).scalar_one()
        assert again != pid
    finally:
        await engine.dispose()


async def test_a_write_on_a_killed_connection_is_not_retried_but_unavailable(database_url) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        db = RequestDatabase(engine)
        pid = (await db.execute(sa.select(sa.func.pg_backend_pid()))).scalar_one()
        await _terminate(database_url, {pid})
        with pytest.raises(Unavailable):
            await db.execute(sa.text("UPDATE companies SET version = version WHERE false"))
        assert (await db.execute(sa.select(sa.literal(1)))).scalar_one() == 1  # and the pool recovered
    finally:
        await engine.dispose()


USERS = "{ users(first: 1) { edges { node { email } } } }"


CREATE_COMPANY = 'mutation($name: String!) { createCompany(input: {name: $name}) { __typename } }'


async def test_killed_connections_do_not_reach_the_client(settings: Settings, database_url, demo) -> None:
    before = await _backends(database_url)
    with LiveServer(Container.build(settings, database_url)) as server:
        token = demo.token("admin@acme.example")
        async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:

            async def kill_the_servers_connections() -> None:
                servers = await _backends(database_url) - before
                assert servers, "the server holds no connection to kill"
                await _terminate(database_url, servers)

            first = (await http.post("/graphql", json={"query": USERS})).json()
            assert not first.get("errors")
            await kill_the_servers_connections()
            again = (await http.post("/graphql", json={"query": USERS})).json()
            assert again["data"] == first["data"] and "errors" not in again

            # a mutation first after the kill: its transaction starts again on a live connection
            await kill_the_servers_connections()
            created = await http.post("/graphql", json={"query": CREATE_COMPANY, "variables": {"name": "Afterlife"}})
            assert created.json()["data"] == {"createCompany": {"__typename": "CompanyPayload"}}, created.json()


async def _on_the_maintenance_database(database_url: str, sql: str, *args: object) -> None:
    """Run from the server's ``postgres`` database: the test's own may refuse connections."""
    maintenance = sa.engine.make_url(_admin_dsn(database_url)).set(database="postgres")
    admin = await asyncpg.connect(maintenance.render_as_string(hide_password=False))
    try:
        await admin.execute(sql, *args)
    finally:
        await admin.close()


async def test_a_database_that_refuses_connections_is_unavailable_not_a_fault(
    settings: Settings, database_url, demo, caplog
) -> None:
    """``ALTER DATABASE ... ALLOW_CONNECTIONS false`` (or a server "not accepting connections"):
    each new connection is refused with an error, not a timeout; that was a plain-text 500 with
    a traceback in the log for every request."""
    name = sa.engine.make_url(database_url).database
    me = "{ me { email } }"
    before = await _backends(database_url)
    with LiveServer(Container.build(settings, database_url)) as server:
        headers = {"Authorization": f"Bearer {demo.token('hr@acme.example')}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=20) as http:
            served = await http.post("/graphql", json={"query": me})
            assert served.json()["data"] == {"me": {"email": "hr@acme.example"}}
            caplog.clear()
            caplog.set_level(logging.WARNING)
            await _on_the_maintenance_database(database_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            try:
                # the server's pooled connections go too, so each request needs a new one
                await _on_the_maintenance_database(
                    database_url,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = $1 AND NOT pid = ANY($2::int[])",
                    name,
                    list(before),
                )
                started = time.monotonic()
                for operation in (me, USERS, CREATE_COMPANY):
                    response = await http.post("/graphql", json={"query": operation, "variables": {"name": "Refused"}})
                    assert response.status_code == 200, response.text
                    assert response.headers["content-type"].startswith("application/json")
                    (error,) = response.json()["errors"]
                    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE", error
                    assert error["message"] == "the database is unavailable right now; try again shortly"
                assert time.monotonic() - started < 5
                assert (await http.get("/readyz")).status_code == 503
            finally:
                await _on_the_maintenance_database(database_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            faults = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
            assert not faults, [r.getMessage() for r in faults]
            assert any("database unavailable" in r.getMessage() for r in caplog.records)
            again = await http.post("/graphql", json={"query": me})
            assert again.json()["data"] == {"me": {"email": "hr@acme.example"}}


@pytest.fixture
def unreachable_server(settings: Settings):
    """The real app whose DATABASE_URL points at a port nothing listens on."""
    url = f"postgresql://postgres@127.0.0.1:{_free_port()}/nowhere"
    down = Settings(app_env="test", database_url=url, _env_file=None)  # type: ignore[call-arg]
    with LiveServer(Container.build(down, url)) as server:
        yield server


async def test_a_database_that_is_down_is_a_quick_typed_error(unreachable_server) -> None:
    container = unreachable_server.container
    principal = Principal(uuid.uuid4(), uuid.uuid4(), frozenset({Role.HR}), "hr@acme.example")
    headers = {"Authorization": f"Bearer {container.verifier.issue(principal)}"}
    async with httpx.AsyncClient(base_url=unreachable_server.url, headers=headers, timeout=20) as http:
        started = time.monotonic()
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"

        for operation in (USERS, 'mutation { createCompany(input: {name: "Initech"}) { __typename } }'):
            response = await http.post("/graphql", json={"query": operation})
            assert response.status_code == 200
            (error,) = response.json()["errors"]
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE", error
            assert error["message"] == "the database is unavailable right now; try again shortly"
        assert time.monotonic() - started < 5


async def test_a_database_that_never_answers_is_unavailable_within_the_connect_bound(monkeypatch) -> None:
    """A server that takes the TCP connection but never speaks (a hung host, a full backlog)."""
    import socket

    import adapters.sql.database

    monkeypatch.setattr(adapters.sql.database, "CONNECT_SECONDS", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # never accepted, never answered
        engine = create_engine(f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/silent", pool_size=1)
        try:
            started = time.monotonic()
            with pytest.raises(Unavailable):
                await RequestDatabase(engine).execute(sa.select(sa.literal(1)))
            with pytest.raises(Unavailable):
                async with RequestDatabase(engine).transaction():
                    pass
            assert time.monotonic() - started < 3
        finally:
            await engine.dispose()
