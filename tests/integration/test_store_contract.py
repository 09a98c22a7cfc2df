"""One contract for both stores: the in-memory fake the service tests use, and the SQL store
on a real PostgreSQL. If the two disagree, the service tests prove nothing about production.

Each example loads the same rows into a store (for SQL: inside a transaction that is rolled
back), asks the same question, and compares the answer with the contract, or, for the
generated cases, the fake's answer with PostgreSQL's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sql.database import RequestDatabase
from adapters.sql.store import SqlEntityStore
from domains.catalog import build_registry
from domains.company.model import Company
from domains.document.model import Document, DocumentKind
from domains.kernel.ports import EntityStore
from domains.kernel.principal import Role
from domains.kernel.query import AllOf, AnyOf, Condition, Filter, Not, Op, Order, PageRequest
from domains.user.model import User
from tests.unit.fakes import FakeEntityStore

REGISTRY = build_registry()
COMPANY, USER, DOCUMENT = REGISTRY["Company"], REGISTRY["User"], REGISTRY["Document"]


@dataclasses.dataclass(frozen=True)
class Row:
    title: str
    kind: DocumentKind
    due_on: date | None
    note: str | None
    owner: int = 0  # which of the two people owns it


class _Rollback(Exception):
    pass


@asynccontextmanager
async def loaded(kind: str, container: Any, rows: Sequence[Row]) -> AsyncIterator[tuple[EntityStore, Company]]:
    """A store holding one company, two people and ``rows`` as their documents, nothing else visible."""
    company = Company(name="Contract Co", slug="contract-co")
    owners = [
        User(company_id=company.id, email=f"owner{i}@contract.example", full_name=f"Owner {i}", role=Role.HR)
        for i in range(2)
    ]
    documents = [
        Document(
            company_id=company.id,
            owner_id=owners[r.owner].id,
            title=r.title,
            kind=r.kind,
            due_on=r.due_on,
            note=r.note,
        )
        for r in rows
    ]
    if kind == "fake":
        fake = FakeEntityStore(REGISTRY)
        fake.add(COMPANY, company)
        fake.add(USER, *owners)
        fake.add(DOCUMENT, *documents)
        yield fake, company
        return
    db = RequestDatabase(container.engine)
    store = SqlEntityStore(db, container.registry, container.tables)
    try:
        async with db.transaction():
            await store.insert(COMPANY, company)
            for owner in owners:
                await store.insert(USER, owner)
            for document in documents:
                await store.insert(DOCUMENT, document)
            yield store, company
            raise _Rollback
    except _Rollback:
        pass


async def titles(store: EntityStore, company: Company, filter: Filter | None, order: Sequence[Order] = ()) -> list[str]:
    scoped = AllOf((Condition("company_id", Op.EQ, company.id), filter)) if filter else None
    scoped = scoped or Condition("company_id", Op.EQ, company.id)
    page = await store.find(DOCUMENT, scoped, (*order, Order("title")), PageRequest(), 1000)
    return [d.title for d in page.items]


ROWS = (
    Row("dated", DocumentKind.ID, date(2024, 1, 1), "a note"),
    Row("later", DocumentKind.CONTRACT, date(2024, 6, 1), None),
    Row("undated", DocumentKind.OTHER, None, None),
)
D1 = date(2024, 1, 1)

CONTRACT: list[tuple[Filter, list[str]]] = [
    (Condition("due_on", Op.EQ, D1), ["dated"]),
    (Condition("due_on", Op.NE, D1), ["later", "undated"]),  # ne matches NULL
    (Condition("due_on", Op.NIN, [D1]), ["later", "undated"]),  # so does nin
    (Condition("due_on", Op.IN, [D1]), ["dated"]),
    (Condition("due_on", Op.LT, date(2024, 6, 1)), ["dated"]),  # NULL never compares
    (Condition("due_on", Op.GTE, D1), ["dated", "later"]),
    (Condition("due_on", Op.EQ, None), ["undated"]),  # eq null is IS NULL
    (Condition("due_on", Op.NE, None), ["dated", "later"]),  # ne null is IS NOT NULL
    (Condition("due_on", Op.LT, None), []),
    (Condition("due_on", Op.IS_NULL, True), ["undated"]),
    (Not(Condition("due_on", Op.EQ, D1)), ["later"]),  # NOT (NULL = x) is UNKNOWN: skipped
    (Not(Condition("due_on", Op.NE, D1)), ["dated"]),
    (Not(Condition("note", Op.LIKE, "%note")), []),
    (AnyOf((Condition("due_on", Op.LT, D1), Not(Condition("due_on", Op.LT, D1)))), ["dated", "later"]),
    (Condition("note", Op.ILIKE, "A%"), ["dated"]),
    (Condition("kind", Op.NIN, [DocumentKind.ID, DocumentKind.OTHER]), ["later"]),
    (AllOf(()), ["dated", "later", "undated"]),
    (AnyOf(()), []),
]


@pytest.fixture(params=["fake", "sql"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(("filter", "expected"), CONTRACT)
async def test_filters_follow_sql_null_semantics(store_kind, container, filter, expected) -> None:
    async with loaded(store_kind, container, ROWS) as (store, company):
        assert await titles(store, company, filter) == expected


async def test_nulls_sort_last_ascending_and_first_descending(store_kind, container) -> None:
    async with loaded(store_kind, container, ROWS) as (store, company):
        assert await titles(store, company, None, [Order("due_on")]) == ["dated", "later", "undated"]
        assert await titles(store, company, None, [Order("due_on", descending=True)]) == ["undated", "later", "dated"]


async def test_ties_are_broken_by_id_in_the_direction_of_the_last_key(store_kind, container) -> None:
    rows = [Row("same", DocumentKind.OTHER, None, None) for _ in range(4)]
    async with loaded(store_kind, container, rows) as (store, company):
        scope = Condition("company_id", Op.EQ, company.id)
        for descending in (False, True):
            page = await store.find(DOCUMENT, scope, (Order("title", descending),), PageRequest(), 10)
            ids = [d.id for d in page.items]
            assert ids == sorted(ids, key=lambda i: str(i), reverse=descending)


async def test_keyset_pages_cover_every_row_once(store_kind, container) -> None:
    rows = [Row(f"t{i}", DocumentKind.OTHER, date(2024, 1, 1 + i % 3) if i % 4 else None, None) for i in range(9)]
    async with loaded(store_kind, container, rows) as (store, company):
        scope = Condition("company_id", Op.EQ, company.id)
        order = (Order("due_on", descending=True), Order("title"))
        seen, after = [], None
        while True:
            page = await store.find(DOCUMENT, scope, order, PageRequest(first=2, after=after), 2)
            seen += [d.title for d in page.items]
            if not page.has_next:
                break
            after = page.cursors[-1]
        assert sorted(seen) == sorted(r.title for r in rows) and len(seen) == len(rows)
        assert seen == await titles(store, company, None, order)


# ---- generated: the fake answers exactly as PostgreSQL does ----------------------------------

TEXT = st.text(alphabet="ab%_", max_size=3)
DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 1, 5))
KINDS = st.sampled_from([DocumentKind.ID, DocumentKind.CONTRACT, DocumentKind.OTHER])

row_strategy = st.builds(Row, title=st.text(alphabet="ab", max_size=3), kind=KINDS, due_on=st.none() | DATES,
                         note=st.none() | TEXT, owner=st.integers(0, 1))  # fmt: skip


def _conditions() -> st.SearchStrategy[Filter]:
    def on(field: str, values: st.SearchStrategy[Any], ops: Sequence[Op]) -> st.SearchStrategy[Filter]:
        single = st.builds(Condition, st.just(field), st.sampled_from([o for o in ops if o not in (Op.IN, Op.NIN)]),
                           st.none() | values)  # fmt: skip
        listed = st.builds(Condition, st.just(field), st.sampled_from([Op.IN, Op.NIN]), st.lists(values, max_size=3))
        return single | listed

    ordered = [Op.EQ, Op.NE, Op.IN, Op.NIN, Op.LT, Op.LTE, Op.GT, Op.GTE]
    return st.one_of(
        on("due_on", DATES, ordered),
        on("note", TEXT, [*ordered, Op.LIKE, Op.ILIKE]),
        on("title", TEXT, [*ordered, Op.LIKE, Op.ILIKE]),
        on("kind", KINDS, [Op.EQ, Op.NE, Op.IN, Op.NIN]),
        st.builds(Condition, st.sampled_from(["due_on", "note"]), st.just(Op.IS_NULL), st.booleans()),
    )


filters = st.recursive(
    _conditions(),
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.lists(inner, max_size=3).map(lambda p: AllOf(tuple(p))),
        st.lists(inner, max_size=3).map(lambda p: AnyOf(tuple(p))),
    ),
    max_leaves=6,
)
orders = st.lists(
    st.builds(Order, st.sampled_from(["due_on", "note", "kind"]), st.booleans()),
    max_size=2,
    unique_by=lambda o: o.field,
)


async def _answer(kind: str, container: Any, rows: list[Row], filter: Filter, order: list[Order]) -> Any:
    async with loaded(kind, container, rows) as (store, company):
        scoped = AllOf((Condition("company_id", Op.EQ, company.id), filter))
        # titles are unique, so ending with title makes the order total and the same in both loads
        total = [*order, Order("title")]
        found = await store.find(DOCUMENT, scoped, total, PageRequest(first=2), 2)
        pages = [found]
        if found.cursors:  # and the pages on either side of it, by each store's own cursors
            pages.append(await store.find(DOCUMENT, scoped, total, PageRequest(first=2, after=found.cursors[-1]), 2))
            pages.append(await store.find(DOCUMENT, scoped, total, PageRequest(last=1, before=found.cursors[-1]), 1))
        count = await store.count(DOCUMENT, scoped)
        every = await store.find(DOCUMENT, scoped, (), PageRequest(), 1000)
        # one page per owner (a nested connection), and the page after each owner's first one
        # (owners are told apart across the two loads by their first title: titles are unique)
        first_title = {d.owner_id: d.title for d in sorted(every.items, key=lambda d: d.title, reverse=True)}
        owners = sorted(first_title, key=first_title.__getitem__)
        grouped = await store.find_grouped(DOCUMENT, "owner_id", owners, scoped, total, 1, None)
        for owner in owners:
            if grouped[owner].cursors:
                after = grouped[owner].cursors[-1]
                pages.append((await store.find_grouped(DOCUMENT, "owner_id", [owner], scoped, total, 1, after))[owner])
        pages += [grouped[o] for o in owners]
        counts = await store.count_grouped(DOCUMENT, "owner_id", owners, scoped)
        return (
            sorted(map(_described, every.items)),
            count,
            [([_described(d) for d in p.items], p.has_next, p.has_previous) for p in pages],
            [counts[o] for o in owners],
        )


def _described(d: Document) -> str:
    return repr((d.title, d.kind.value, d.due_on, d.note))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_strategy, max_size=6, unique_by=lambda r: r.title), filter=filters, order=orders)
async def test_the_fake_answers_like_postgresql(container, rows: list[Row], filter: Filter, order: list[Order]) -> None:
    assert await _answer("fake", container, rows, filter, order) == await _answer("sql", container, rows, filter, order)


