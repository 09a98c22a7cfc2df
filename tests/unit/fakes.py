"""In-memory stand-ins for the kernel's ports: the store evaluates the kernel's filter data in Python."""

from __future__ import annotations

import copy
import enum
import functools
import operator
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from domains.kernel.cursors import read_cursor
from domains.kernel.entity import Entity, EntitySpec, Registry
from domains.kernel.events import DomainEvent
from domains.kernel.query import (
    AllOf,
    AnyOf,
    Condition,
    Filter,
    Not,
    Op,
    Order,
    Page,
    PageRequest,
    Related,
    all_of,
    encode_cursor,
)
from domains.kernel.versions import VersionedSave

_OPERATORS = (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge)
_COMPARISONS = dict(zip((Op.EQ, Op.NE, Op.LT, Op.LTE, Op.GT, Op.GTE), _OPERATORS, strict=True))


def _plain(value: Any) -> Any:
    # Cursors bring enums back as their values, so rows are compared the same way.
    return value.value if isinstance(value, enum.Enum) else value


def _like(value: Any, pattern: str, flags: int = 0) -> bool:
    if value is None:
        return False
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, str(value), flags | re.DOTALL) is not None


def _compare(a: Sequence[Any], b: Sequence[Any], descending: Sequence[bool]) -> int:
    """Orders like PostgreSQL's defaults: NULLS LAST ascending, NULLS FIRST descending."""
    for x, y, desc in zip(a, b, descending, strict=True):
        if x == y:
            continue
        result = 1 if x is None else -1 if y is None else (-1 if x < y else 1)
        return -result if desc else result
    return 0


def _orders(fields: Sequence[str], descending: Sequence[bool]) -> list[Order]:
    return [Order(f, d) for f, d in zip(fields, descending, strict=True)]


class FakeEntityStore(VersionedSave):
    """Implements ``domains.kernel.ports.EntityStore``; rows are copied in and out like a database would."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.tables: dict[str, dict[uuid.UUID, Entity]] = {spec.name: {} for spec in registry}
        self.saved: list[Entity] = []
        """The entities written, in order (the objects themselves, as a unit of work sees them)."""

    # ---- test helpers --------------------------------------------------------------------

    def add(self, spec: EntitySpec[Any], *entities: Entity) -> None:
        """Stores rows as given, bypassing every rule: for seeding a test."""
        for entity in entities:
            row = copy.copy(entity)
            row.__dict__.pop("_events", None)  # a row holds state, not what happened to it
            self.tables[spec.name][entity.id] = row

    def stored(self, spec: EntitySpec[Any], id: uuid.UUID) -> Any:
        """The row as stored, deleted or not (None when absent)."""
        return copy.copy(self.tables[spec.name].get(id))

    def rows(self, spec: EntitySpec[Any], filter: Filter | None = None, include_deleted: bool = False) -> list[Any]:
        return [
            copy.copy(row)
            for row in self.tables[spec.name].values()
            if (include_deleted or row.deleted_at is None) and self.matches(spec, row, filter)
        ]

    # ---- filter evaluation ---------------------------------------------------------------

    def matches(self, spec: EntitySpec[Any], row: Any, node: Filter | None) -> bool:
        """Whether ``node`` holds for ``row`` as a SQL ``WHERE`` decides: only TRUE keeps a row."""
        return self._truth(spec, row, node) is True

    def _truth(self, spec: EntitySpec[Any], row: Any, node: Filter | None) -> bool | None:
        """SQL's three-valued logic: None is UNKNOWN (a comparison with NULL), and NOT UNKNOWN
        is still UNKNOWN, so ``not(dueOn eq X)`` skips rows without a due date, as PostgreSQL does."""
        if node is None:
            return True
        if isinstance(node, Condition):
            return self._condition(getattr(row, node.field), node.op, node.value)
        if isinstance(node, AllOf):
            parts = [self._truth(spec, row, p) for p in node.parts]
            return False if False in parts else None if None in parts else True
        if isinstance(node, AnyOf):
            parts = [self._truth(spec, row, p) for p in node.parts]
            return True if True in parts else None if None in parts else False
        if isinstance(node, Not):
            inner = self._truth(spec, row, node.part)
            return None if inner is None else not inner
        assert isinstance(node, Related), node
        relation = spec.relation(node.relation)
        target = self.registry[relation.target]
        key = getattr(row, relation.local)
        link = Condition(relation.remote, Op.EQ, key)
        return key is not None and bool(self.rows(target, AllOf((link, node.filter))))

    @staticmethod
    def _condition(value: Any, op: Op, operand: Any) -> bool | None:
        """Mirrors ``adapters/sql/filters.py``: ``ne`` and ``nin`` match NULL (the compiler adds
        ``OR column IS NULL``); ``eq``/``ne`` with a null operand mean IS NULL / IS NOT NULL."""
        value = _plain(value)
        if op is Op.IS_NULL:
            return (value is None) == bool(operand)
        if operand is None:
            return value is None if op is Op.EQ else value is not None if op is Op.NE else False
        if op in (Op.NE, Op.NIN) and value is None:
            return True
        if op is Op.IN and not operand:  # IN over an empty set is FALSE, even for NULL
            return False
        if value is None:  # SQL: any other comparison with NULL is UNKNOWN
            return None
        if op is Op.ILIKE:
            return _like(value, operand, re.IGNORECASE)
        if op is Op.LIKE:
            return _like(value, operand)
        if op in (Op.IN, Op.NIN):
            options = [_plain(o) for o in operand]
            found: bool | None = True if value in options else None if None in options else False
            return found if op is Op.IN else None if found is None else not found
        operand = _plain(operand)
        return bool(_COMPARISONS[op](value, operand))

    # ---- the port --------------------------------------------------------------------------

    async def get_many(
        self, spec: EntitySpec[Any], ids: Sequence[uuid.UUID], scope: Filter | None, *, include_deleted: bool = False
    ) -> list[Any]:
        wanted = set(ids)
        return [r for r in self.rows(spec, scope, include_deleted) if r.id in wanted]

    async def find(
        self, spec: EntitySpec[Any], filter: Filter | None, order: Sequence[Order], page: PageRequest, limit: int
    ) -> Page[Any]:
        # the id breaks ties in the direction of the last key, as adapters/sql/filters.py's with_tiebreak
        last_descending = order[-1].descending if order else False
        tiebreak = [] if any(o.field == "id" for o in order) else [Order("id", last_descending)]
        fields = [o.field for o in (*order, *tiebreak)]
        descending = [o.descending for o in (*order, *tiebreak)]

        def key(row: Any) -> list[Any]:
            return [_plain(getattr(row, f)) for f in fields]

        rows = sorted(
            self.rows(spec, filter), key=functools.cmp_to_key(lambda a, b: _compare(key(a), key(b), descending))
        )
        if page.after is not None:
            after = read_cursor(spec, _orders(fields, descending), page.after, "after")
            rows = [r for r in rows if _compare(key(r), after, descending) > 0]
        if page.before is not None:
            before = read_cursor(spec, _orders(fields, descending), page.before, "before")
            rows = [r for r in rows if _compare(key(r), before, descending) < 0]
        # As the SQL store: a page says there is more in the direction it was read, and that
        # there is something on the side of the cursor it started from.
        if page.last is not None or (page.before is not None and page.first is None):
            chosen = rows[max(len(rows) - limit, 0) :] if limit else []
            has_next, has_previous = page.before is not None, len(chosen) < len(rows)
        else:
            chosen = rows[:limit]
            has_next, has_previous = len(chosen) < len(rows), page.after is not None
        return Page(chosen, [encode_cursor(key(r)) for r in chosen], has_next, has_previous)

    async def find_grouped(
        self,
        spec: EntitySpec[Any],
        key: str,
        keys: Sequence[Any],
        filter: Filter | None,
        order: Sequence[Order],
        limit: int,
        after: str | None,
    ) -> dict[Any, Page[Any]]:
        page = PageRequest(first=limit, after=after)
        return {k: await self.find(spec, all_of(Condition(key, Op.EQ, k), filter), order, page, limit) for k in keys}

    async def count(self, spec: EntitySpec[Any], filter: Filter | None) -> int:
        return len(self.rows(spec, filter))

    async def count_grouped(
        self, spec: EntitySpec[Any], key: str, keys: Sequence[Any], filter: Filter | None
    ) -> dict[Any, int]:
        return {k: await self.count(spec, all_of(Condition(key, Op.EQ, k), filter)) for k in keys}

    async def exists(self, spec: EntitySpec[Any], filter: Filter, *, include_deleted: bool = True) -> bool:
        return bool(self.rows(spec, filter, include_deleted))

    async def insert(self, spec: EntitySpec[Any], entity: Any) -> None:
        assert entity.id not in self.tables[spec.name], f"duplicate id {entity.id}"
        self.add(spec, entity)
        self._saw(entity)

    async def update(self, spec: EntitySpec[Any], entity: Any, expected_version: int) -> bool:
        current = self.tables[spec.name].get(entity.id)
        if current is None or current.version != expected_version:
            return False
        self.add(spec, entity)
        self._saw(entity)
        return True

    def _saw(self, entity: Entity) -> None:
        if all(seen is not entity for seen in self.saved):
            self.saved.append(entity)

    def take_events(self) -> list[DomainEvent]:
        """What the saved entities recorded since the last call: what a unit of work publishes."""
        return [event for entity in self.saved for event in entity.take_events()]


class FakeAfterCommit:
    """Implements ``domains.kernel.ports.Work``: collects actions until the test 'commits';
    its transactions have nothing to commit (the in-memory store keeps what it is given)."""

    def __init__(self) -> None:
        self.actions: list[Callable[[], Awaitable[None]]] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    def defer(self, action: Callable[[], Awaitable[None]]) -> None:
        self.actions.append(action)

    async def run(self) -> None:
        actions, self.actions = self.actions, []
        for action in actions:
            await action()


class FakeTransactions:
    """Implements ``domains.kernel.unit_of_work.Transactional``: counts the transactions the
    commands open (the in-memory store has nothing to commit)."""

    def __init__(self) -> None:
        self.opened = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.opened += 1
        yield
