"""The SQL adapter against a real PostgreSQL: migrations, filters, keyset pages, writes."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from adapters.sql.database import RequestDatabase
from adapters.sql.jobs import QUEUE_TABLE_PREFIX
from adapters.sql.outbox import SqlOutbox
from adapters.sql.store import SqlEntityStore
from adapters.sql.tables import build_tables
from domains.catalog import build_registry
from domains.document.model import Document, DocumentKind, DocumentStatus
from domains.kernel.bus import MessageBus
from domains.kernel.errors import Conflict, Invalid
from domains.kernel.query import AllOf, AnyOf, Condition, Not, Op, Order, PageRequest, Related
from domains.kernel.unit_of_work import UnitOfWork

REGISTRY = build_registry()
DOCUMENT = REGISTRY["Document"]
USER = REGISTRY["User"]
COMPANY = REGISTRY["Company"]


async def test_migrations_match_the_declarations(container) -> None:
    metadata = sa.MetaData()
    build_tables(REGISTRY, metadata)

    def diff(connection: sa.Connection) -> list[object]:
        # the queue library's tables come from its own SQL (migration 0007), not from ours
        def ours(name: str | None, type_: str, _parents: object) -> bool:
            return not (type_ == "table" and (name or "").startswith(QUEUE_TABLE_PREFIX))

        opts = {"compare_type": True, "include_name": ours}
        return compare_metadata(MigrationContext.configure(connection, opts=opts), metadata)

    async with container.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


@pytest.fixture
def store(container, db) -> SqlEntityStore:
    return SqlEntityStore(db, container.registry, container.tables)


async def _titles(store: SqlEntityStore, filter, order=(Order("title"),), page=PageRequest(), limit=100) -> list[str]:
    found = await store.find(DOCUMENT, filter, order, page, limit)
    return [d.title for d in found.items]


async def _add(store: SqlEntityStore, demo, title: str, **values) -> Document:
    owner = demo.principal(values.pop("owner", "alice@acme.example"))
    document = Document(
        company_id=owner.company_id,
        owner_id=owner.user_id,
        title=title,
        kind=values.pop("kind", DocumentKind.OTHER),
        **values,
    )
    await store.insert(DOCUMENT, document)
    return document


@pytest.mark.parametrize(
    "condition, expected",
    [
        (Condition("title", Op.EQ, "Passport copy"), ["Passport copy"]),
        (Condition("kind", Op.NE, DocumentKind.CONTRACT), ["First-aid certificate", "Passport copy", "Tax form W-4"]),
        (Condition("kind", Op.IN, [DocumentKind.ID, DocumentKind.TAX_FORM]), ["Passport copy", "Tax form W-4"]),
        (
            Condition("kind", Op.NIN, [DocumentKind.CONTRACT, DocumentKind.ID]),
            ["First-aid certificate", "Tax form W-4"],
        ),
        (Condition("title", Op.LT, "F"), ["Employment contract", "Employment contract"]),
        (
            Condition("title", Op.LTE, "First-aid certificate"),
            ["Employment contract", "Employment contract", "First-aid certificate"],
        ),
        (Condition("title", Op.GT, "Passport copy"), ["Tax form W-4"]),
        (Condition("title", Op.GTE, "Passport copy"), ["Passport copy", "Tax form W-4"]),
        (Condition("title", Op.LIKE, "%copy"), ["Passport copy"]),
        (Condition("title", Op.LIKE, "%COPY"), []),
        (Condition("title", Op.ILIKE, "%COPY"), ["Passport copy"]),
        (Condition("note", Op.IS_NULL, False), []),
        (Condition("due_on", Op.IS_NULL, True), []),
        (
            AnyOf((Condition("title", Op.EQ, "Passport copy"), Condition("kind", Op.EQ, DocumentKind.TAX_FORM))),
            ["Passport copy", "Tax form W-4"],
        ),
        (Not(Condition("title", Op.ILIKE, "%contract%")), ["First-aid certificate", "Passport copy", "Tax form W-4"]),
        (
            AllOf(
                (
                    Condition("title", Op.ILIKE, "%contract%"),
                    Related("owner", Condition("email", Op.EQ, "carol@globex.example")),
                )
            ),
            ["Employment contract"],
        ),
    ],
    ids=lambda v: getattr(v, "op", type(v).__name__) if not isinstance(v, list) else str(len(v)),
)
async def test_each_operator_compiles_to_the_right_rows(store, demo, condition, expected) -> None:
    assert await _titles(store, condition) == expected


async def test_has_many_relation_filter_is_exists_without_duplicates(store, demo) -> None:
    for i in range(3):
        await _add(store, demo, f"Extra contract {i}", kind=DocumentKind.CONTRACT)
    matching = Related("documents", Condition("kind", Op.EQ, DocumentKind.CONTRACT))
    page = await store.find(COMPANY, matching, (Order("name"),), PageRequest(), 100)
    assert [c.name for c in page.items] == ["Acme Corp", "Globex"]
    assert await store.count(COMPANY, matching) == 2


async def test_keyset_pages_are_stable_under_ties_nulls_and_inserts(store, demo) -> None:
    due = dt.date(2030, 1, 1)
    for i in range(7):
        await _add(store, demo, "Same title", due_on=due if i % 2 else None)
    scope = Condition("title", Op.EQ, "Same title")
    order = (Order("due_on", descending=False), Order("title"))
    everything = (await store.find(DOCUMENT, scope, order, PageRequest(), 100)).items
    assert [d.due_on for d in everything] == [due] * 3 + [None] * 4  # NULLs last ascending

    seen, after = [], None
    while True:
        page = await store.find(DOCUMENT, scope, order, PageRequest(first=2, after=after), 2)
        seen += page.items
        if after is None:
            await _add(store, demo, "Same title", due_on=dt.date(2000, 1, 1))  # sorts before the cursor
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert [d.id for d in seen] == [d.id for d in everything]

    backwards, before = [], None
    while True:
        page = await store.find(DOCUMENT, scope, order, PageRequest(last=3, before=before), 3)
        backwards = page.items + backwards
        if not page.has_previous:
            break
        before = page.cursors[0]
    assert [d.id for d in backwards][1:] == [d.id for d in everything]
    assert backwards[0].due_on == dt.date(2000, 1, 1)


async def test_descending_keyset_with_nulls(store, demo) -> None:
    for i in range(5):
        await _add(store, demo, "Desc", due_on=dt.date(2030, 1, i + 1) if i % 2 else None)
    scope = Condition("title", Op.EQ, "Desc")
    order = (Order("due_on", descending=True),)
    everything = (await store.find(DOCUMENT, scope, order, PageRequest(), 100)).items
    seen, after = [], None
    while True:
        page = await store.find(DOCUMENT, scope, order, PageRequest(first=1, after=after), 1)
        seen += page.items
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert [d.id for d in seen] == [d.id for d in everything]
    assert [d.due_on for d in seen][:3] == [None, None, None]


async def test_a_foreign_cursor_is_invalid(store, demo) -> None:
    with pytest.raises(Invalid):
        await store.find(DOCUMENT, None, (Order("title"),), PageRequest(after="garbage"), 10)


async def test_grouped_pages_and_counts_in_one_statement_each(store, demo, db) -> None:
    alice, bob = demo.id("alice@acme.example"), demo.id("bob@acme.example")
    before = db.statements
    pages = await store.find_grouped(DOCUMENT, "owner_id", [alice, bob, uuid.uuid4()], None, (Order("title"),), 1, None)
    counts = await store.count_grouped(DOCUMENT, "owner_id", [alice, bob], None)
    assert db.statements - before == 2
    assert [d.title for d in pages[alice].items] == ["Employment contract"] and pages[alice].has_next
    assert [d.title for d in pages[bob].items] == ["Tax form W-4"] and not pages[bob].has_next
    assert counts == {alice: 2, bob: 1}


async def test_optimistic_update_and_unique_race(store, demo) -> None:
    document = await _add(store, demo, "Versioned")
    changed = dataclasses.replace(document, title="Renamed", version=2)
    assert await store.update(DOCUMENT, changed, expected_version=1)
    assert not await store.update(DOCUMENT, dataclasses.replace(changed, title="Lost"), expected_version=1)
    (stored,) = await store.get_many(DOCUMENT, [document.id], None)
    assert (stored.title, stored.version, stored.status) == ("Renamed", 2, DocumentStatus.REQUESTED)

    (alice,) = await store.get_many(USER, [demo.id("alice@acme.example")], None)
    twin = dataclasses.replace(alice, id=uuid.uuid4())
    with pytest.raises(Conflict) as conflict:
        await store.insert(USER, twin)
    assert conflict.value.field == "email"


async def test_a_transaction_commits_together_or_not_at_all(container, demo) -> None:
    db = RequestDatabase(container.engine)
    uow = UnitOfWork(db, SqlOutbox(db), MessageBus())
    store = SqlEntityStore(db, container.registry, container.tables, saved=uow.saved)
    ran: list[str] = []

    async def side_effect() -> None:
        ran.append("after commit")

    with pytest.raises(RuntimeError):
        async with uow.transaction():
            await _add(store, demo, "Rolled back")
            uow.defer(side_effect)
            raise RuntimeError("boom")
    assert ran == []
    assert await _titles(store, Condition("title", Op.EQ, "Rolled back")) == []

    async with uow.transaction():
        await _add(store, demo, "Committed")
        uow.defer(side_effect)
        assert ran == []
    assert ran == ["after commit"]
    with pytest.raises(RuntimeError, match="need a transaction"):
        uow.defer(side_effect)
    assert await _titles(store, Condition("title", Op.EQ, "Committed")) == ["Committed"]


async def test_concurrent_reads_of_one_request_use_separate_connections(store, demo, db) -> None:
    """Sibling resolvers read at the same time; each statement gets its own pooled connection."""
    results = await asyncio.gather(*(store.count(DOCUMENT, None) for _ in range(25)))
    assert results == [5] * 25
    assert db.statements == 25


async def test_an_email_is_unique_per_company_in_the_database_too(store, demo) -> None:
    """The kernel checks first; the constraint catches the race it cannot see, per company."""
    from domains.kernel.principal import Role
    from domains.user.model import User

    globex = demo.principal("hr@globex.example").company_id
    acme = demo.principal("hr@acme.example").company_id
    await store.insert(USER, User(company_id=globex, email="alice@acme.example", full_name="Alice G", role=Role.HR))
    with pytest.raises(Conflict) as caught:
        await store.insert(USER, User(company_id=acme, email="alice@acme.example", full_name="Alice A", role=Role.HR))
    assert caught.value.field == "email"
