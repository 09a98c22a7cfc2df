"""Row-level security, derived from the declarations: the database's own wall between companies.

Against the migrated test database: every company-scoped table has RLS and exactly the
policies ``adapters/sql/rls.py`` derives; the application's role owns nothing and cannot
bypass them; and with the application's scoping taken away (the test-only switch), a caller
of one company still gets no row of another, on writes too.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from adapters.auth.sign_in import SYSTEM
from adapters.sql import rls
from adapters.sql.database import RequestDatabase
from adapters.sql.tables import build_tables
from app.wiring import Container
from domains.kernel.access import without_application_scope
from tests.conftest import Demo


def _walls(container: Container) -> list[rls.Wall]:
    metadata = sa.MetaData()
    build_tables(container.registry, metadata)
    return rls.company_scoped(container.registry, metadata)


def test_every_entity_table_and_company_column_is_walled(container: Container) -> None:
    walls = {w.table: w for w in _walls(container)}
    for spec in container.registry:
        assert spec.table in walls, f"{spec.table} has no wall"
    assert walls["companies"].column == "id"
    assert walls["users"].self_column == "id"
    assert walls["events"].column == "company_id"
    assert walls["webhook_endpoints"].column == "company_id"
    assert (walls["document_versions"].parent, walls["document_versions"].column) == ("documents", "document_id")
    assert walls["webhook_deliveries"].parent == "webhook_endpoints"


async def test_the_migrated_database_holds_the_derived_policies(container: Container) -> None:
    async with container.engine.connect() as conn:
        enabled = dict(
            (await conn.execute(sa.text("SELECT relname, relrowsecurity FROM pg_class WHERE relkind = 'r'"))).all()
        )
        policies: dict[str, set[str]] = {}
        for table, name in await conn.execute(sa.text("SELECT tablename, policyname FROM pg_policies")):
            policies.setdefault(table, set()).add(name)
    for wall in _walls(container):
        assert enabled.get(wall.table) is True, f"{wall.table}: row-level security is off (run rls.policy_statements)"
        expected = {s.split()[2] for s in rls.policy_statements(wall) if s.startswith("CREATE POLICY")}
        assert policies.get(wall.table) == expected, wall.table


async def test_the_application_role_owns_nothing_and_cannot_bypass(container: Container) -> None:
    async with container.app_engine.connect() as conn:
        who = (
            await conn.execute(
                sa.text(
                    "SELECT current_user, r.rolsuper, r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user"
                )
            )
        ).one()
        owned = (
            await conn.execute(
                sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
            )
        ).scalar_one()
    assert tuple(who) == (rls.APP_ROLE, False, False)
    assert owned == 0


async def _titles(container: Container, db: RequestDatabase, demo: Demo, email: str) -> list[str]:
    page = await container.services(db)["Document"].list(demo.principal(email))
    return sorted(d.title for d in page.items)


async def test_the_wall_stands_without_the_applications_scope(container: Container, demo: Demo) -> None:
    globex = rls.DatabaseScope.of(demo.principal("hr@globex.example"))
    with without_application_scope():
        # The switch works: on the owner's connection (no RLS) Globex's HR now sees Acme's rows.
        unwalled = await _titles(container, RequestDatabase(container.engine), demo, "hr@globex.example")
        assert "Passport copy" in unwalled
        walled = await _titles(container, container.request_database(globex), demo, "hr@globex.example")
    assert walled == ["Employment contract", "First-aid certificate"]  # Globex's only
    # The same for an autocommit read on a connection that just served Acme, and in a transaction.
    acme_db = container.request_database(rls.DatabaseScope.of(demo.principal("hr@acme.example")))
    assert "Passport copy" in await _titles(container, acme_db, demo, "hr@acme.example")
    with without_application_scope():
        db = container.request_database(globex)
        assert await _titles(container, db, demo, "hr@globex.example") == walled
        async with db.transaction():
            assert await _titles(container, db, demo, "hr@globex.example") == walled


async def test_a_write_into_another_company_is_refused_by_the_database(container: Container, demo: Demo) -> None:
    acme_doc = await _one(container, "SELECT id FROM documents WHERE title = 'Passport copy'")
    db = container.request_database(rls.DatabaseScope.of(demo.principal("hr@globex.example")))
    async with db.transaction():
        result = await db.execute(sa.text("UPDATE documents SET title = 'stolen' WHERE id = :id"), {"id": acme_doc})
        assert result.rowcount == 0  # invisible, so untouched
    with pytest.raises(Exception, match="row-level security"):
        async with db.transaction():
            await db.execute(
                sa.text(
                    "INSERT INTO events (type, aggregate, aggregate_id, company_id, payload, occurred_at)"
                    " VALUES ('Forged', 'Document', :c, :c, '{}'::jsonb, now())"
                ),
                {"c": demo.principal("hr@acme.example").company_id},
            )
    assert await _one(container, "SELECT title FROM documents WHERE id = :id", id=acme_doc) == "Passport copy"


async def test_admin_reach_is_a_policy(container: Container, demo: Demo) -> None:
    admin = demo.principal("admin@acme.example")
    db = container.request_database(rls.DatabaseScope.of(admin))
    titles = await _titles(container, db, demo, "admin@acme.example")
    assert "Passport copy" in titles and "First-aid certificate" in titles
    nobody = container.request_database(rls.NOBODY)
    assert (await nobody.execute(sa.text("SELECT count(*) FROM documents"))).scalar_one() == 0
    assert (await nobody.execute(sa.text("SELECT count(*) FROM users"))).scalar_one() == 0


async def test_a_person_reads_their_own_user_row_before_their_company_is_known(
    container: Container, demo: Demo
) -> None:
    carol = demo.id("carol@globex.example")
    db = container.request_database(rls.DatabaseScope.signing_in(carol))
    (user,) = await container.services(db)["User"].get_many(SYSTEM, [carol])
    assert user is not None and user.email == "carol@globex.example"
    others = (await db.execute(sa.text("SELECT count(*) FROM users WHERE id <> :id"), {"id": carol})).scalar_one()
    assert others == 0


async def _one(container: Container, sql: str, **params: Any) -> Any:
    async with container.engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).scalar_one()


async def test_the_caller_is_set_once_per_transaction_and_once_per_connection_change(
    container: Container, database_url: str, demo: Demo
) -> None:
    """What the settings cost: one statement at the start of each transaction; for reads outside
    one, a statement only when the pooled connection last served another caller. Neither is one
    of the request's own statements (``statements``, what ``extensions.sql`` shows)."""
    from adapters.sql.database import create_engine

    engine = create_engine(database_url, pool_size=1, role=rls.APP_ROLE)  # reads reuse one connection
    acme = rls.DatabaseScope.of(demo.principal("hr@acme.example"))
    globex = rls.DatabaseScope.of(demo.principal("hr@globex.example"))
    count = sa.text("SELECT count(*) FROM documents")
    try:
        db = RequestDatabase(engine, acme)
        assert (await db.execute(count)).scalar_one() == 3
        assert (await db.execute(count)).scalar_one() == 3
        assert (db.statements, db.scope_statements) == (2, 1)
        other = RequestDatabase(engine, globex)
        assert (await other.execute(count)).scalar_one() == 2
        assert (other.statements, other.scope_statements) == (1, 1)
        async with other.transaction():
            assert (await other.execute(count)).scalar_one() == 2
            assert (await other.execute(count)).scalar_one() == 2
        assert (other.statements, other.scope_statements) == (3, 2)
        # the transaction's settings were its own: the connection still answers as before
        assert (await db.execute(count)).scalar_one() == 3
        assert db.scope_statements == 2  # that connection last served Globex
    finally:
        await engine.dispose()
