"""The generic repository: one implementation of ``EntityStore`` for every declared entity."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from adapters.sql.database import RequestDatabase
from adapters.sql.filters import FilterCompiler, keyset, order_columns, plain, with_tiebreak
from domains.kernel.cursors import read_cursor
from domains.kernel.entity import EntitySpec, FieldType, Registry, all_fields
from domains.kernel.errors import Conflict, Invalid
from domains.kernel.events import camel
from domains.kernel.query import Filter, Order, Page, PageRequest, encode_cursor
from domains.kernel.versions import VersionedSave

Changed = Callable[[EntitySpec[Any], Mapping[str, Any] | None, Any], None]


class SqlEntityStore(VersionedSave):
    def __init__(
        self,
        db: RequestDatabase,
        registry: Registry,
        tables: dict[str, sa.Table],
        saved: Callable[[Any], None] | None = None,
        changed: Changed | None = None,
    ) -> None:
        """``saved`` hears of each entity written (the unit of work, which takes its events);
        ``changed`` of the row as it was before (None for an insert) and the entity as written
        (the unit of work's audit entries)."""
        self.db = db
        self.saved = saved
        self.changed = changed
        self.registry = registry
        self.tables = tables
        self.filters = FilterCompiler(registry, tables)

    # ---- reads -------------------------------------------------------------------------

    async def get_many(
        self,
        spec: EntitySpec[Any],
        ids: Sequence[uuid.UUID],
        scope: Filter | None,
        *,
        include_deleted: bool = False,
    ) -> list[Any]:
        if not ids:
            return []
        table = self.tables[spec.name]
        query = sa.select(table).where(
            table.c.id.in_(list(set(ids))), self._visible(spec, table, scope, include_deleted)
        )
        result = await self.db.execute(query)
        return [self._entity(spec, row) for row in result.mappings()]

    async def find(
        self,
        spec: EntitySpec[Any],
        filter: Filter | None,
        order: Sequence[Order],
        page: PageRequest,
        limit: int,
    ) -> Page[Any]:
        table = self.tables[spec.name]
        order = with_tiebreak(order)
        backwards = page.last is not None or (page.before is not None and page.first is None)
        cursor = page.before if backwards else page.after
        query = sa.select(table).where(self._visible(spec, table, filter, False))
        if cursor is not None:
            argument = "before" if backwards else "after"
            values = read_cursor(spec, order, cursor, argument)
            query = query.where(keyset(table, order, values, reverse=backwards))
        query = query.order_by(*order_columns(table, order, reverse=backwards)).limit(limit + 1)
        rows = [self._entity(spec, row) for row in (await self.db.execute(query)).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        if backwards:
            rows.reverse()
            return self._page(rows, order, has_next=page.before is not None, has_previous=more)
        return self._page(rows, order, has_next=more, has_previous=page.after is not None)

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
        table = self.tables[spec.name]
        order = with_tiebreak(order)
        conditions = [table.c[key].in_(list(set(keys))), self._visible(spec, table, filter, False)]
        if after is not None:
            conditions.append(keyset(table, order, read_cursor(spec, order, after, "after"), reverse=False))
        position = sa.func.row_number().over(
            partition_by=table.c[key], order_by=order_columns(table, order, reverse=False)
        )
        ranked = sa.select(table, position.label("_position")).where(*conditions).subquery()
        query = sa.select(ranked).where(ranked.c._position <= limit + 1).order_by(ranked.c[key], ranked.c._position)
        grouped: dict[Any, list[Any]] = {k: [] for k in keys}
        for row in (await self.db.execute(query)).mappings():
            grouped[row[key]].append(self._entity(spec, row))
        return {
            k: self._page(rows[:limit], order, has_next=len(rows) > limit, has_previous=after is not None)
            for k, rows in grouped.items()
        }

    async def count(self, spec: EntitySpec[Any], filter: Filter | None) -> int:
        table = self.tables[spec.name]
        query = sa.select(sa.func.count()).select_from(table).where(self._visible(spec, table, filter, False))
        return int((await self.db.execute(query)).scalar_one())

    async def count_grouped(
        self, spec: EntitySpec[Any], key: str, keys: Sequence[Any], filter: Filter | None
    ) -> dict[Any, int]:
        table = self.tables[spec.name]
        query = (
            sa.select(table.c[key], sa.func.count())
            .where(table.c[key].in_(list(set(keys))), self._visible(spec, table, filter, False))
            .group_by(table.c[key])
        )
        counts = {k: 0 for k in keys}
        rows: Sequence[Any] = (await self.db.execute(query)).all()
        counts.update({k: int(n) for k, n in rows})
        return counts

    async def exists(self, spec: EntitySpec[Any], filter: Filter, *, include_deleted: bool = True) -> bool:
        table = self.tables[spec.name]
        query = sa.select(sa.exists().where(self._visible(spec, table, filter, include_deleted)))
        return bool((await self.db.execute(query)).scalar_one())

    # ---- writes ------------------------------------------------------------------------

    async def insert(self, spec: EntitySpec[Any], entity: Any) -> None:
        table = self.tables[spec.name]
        await self._write(spec, sa.insert(table).values(self._values(spec, entity)))
        if self.changed is not None:
            self.changed(spec, None, entity)
        if self.saved is not None:
            self.saved(entity)

    async def update(self, spec: EntitySpec[Any], entity: Any, expected_version: int) -> bool:
        table = self.tables[spec.name]
        values = self._values(spec, entity)
        del values["id"], values["created_at"]
        # The row as it was comes back from the same statement (a self-join reads it from the
        # statement's snapshot): the audit trail's old values cost no statement of their own.
        before = table.alias("before")
        statement = (
            sa.update(table)
            .where(table.c.id == entity.id, table.c.version == expected_version, before.c.id == table.c.id)
            .values(values)
            .returning(*(before.c[f.name].label(f"before_{f.name}") for f in all_fields(spec)))
        )
        row = (await self._write(spec, statement)).mappings().first()
        if row is None:
            return False
        if self.changed is not None:
            self.changed(spec, {f.name: row[f"before_{f.name}"] for f in all_fields(spec)}, entity)
        if self.saved is not None:
            self.saved(entity)
        return True

    async def _write(self, spec: EntitySpec[Any], statement: sa.Executable) -> sa.CursorResult[Any]:
        try:
            return await self.db.execute(statement)
        except IntegrityError as error:
            # The kernel checks uniqueness and references first; this is the race it cannot see.
            driver_error = getattr(error.orig, "__cause__", None)
            constraint = getattr(driver_error, "constraint_name", None) or getattr(error.orig, "constraint_name", None)
            for f in spec.fields:
                if f.is_unique and f"{constraint}".endswith(f"_{f.name}_key"):
                    raise Conflict(f"{camel(f.name)} is already taken", field=f.name) from None
            raise Invalid("the change breaks a database constraint") from None

    # ---- mapping -----------------------------------------------------------------------

    def _visible(self, spec: EntitySpec[Any], table: sa.Table, filter: Filter | None, include_deleted: bool) -> Any:
        condition = self.filters.compile(spec, table, filter)
        return condition if include_deleted else sa.and_(table.c.deleted_at.is_(None), condition)

    def _page(self, rows: list[Any], order: Sequence[Order], *, has_next: bool, has_previous: bool) -> Page[Any]:
        cursors = [encode_cursor([getattr(row, o.field) for o in order]) for row in rows]
        return Page(rows, cursors, has_next=has_next, has_previous=has_previous)

    def _values(self, spec: EntitySpec[Any], entity: Any) -> dict[str, Any]:
        return {f.name: plain(getattr(entity, f.name)) for f in all_fields(spec)}

    def _entity(self, spec: EntitySpec[Any], row: Mapping[Any, Any]) -> Any:
        values = {}
        for f in all_fields(spec):
            value = row[f.name]
            if f.type is FieldType.ENUM and f.enum is not None and value is not None:
                value = f.enum(value)
            values[f.name] = value
        return spec.model(**values)
