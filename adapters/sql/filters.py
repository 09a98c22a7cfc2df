"""Compiles the kernel's filter and ordering data into SQL expressions.

NULL sorts as the largest value (PostgreSQL's default: NULLS LAST ascending, FIRST
descending), and the keyset comparisons below follow the same rule, so cursors stay exact
on nullable sort keys.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from domains.kernel.entity import EntitySpec, Registry
from domains.kernel.query import AllOf, AnyOf, Condition, Filter, Not, Op, Order, Related


def plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


_BINARY: dict[Op, Callable[[Any, Any], Any]] = {
    Op.EQ: lambda c, v: c == v,
    Op.NE: lambda c, v: sa.or_(c != v, c.is_(None)),
    Op.LT: lambda c, v: c < v,
    Op.LTE: lambda c, v: c <= v,
    Op.GT: lambda c, v: c > v,
    Op.GTE: lambda c, v: c >= v,
    Op.LIKE: lambda c, v: c.like(v),
    Op.ILIKE: lambda c, v: c.ilike(v),
    Op.IN: lambda c, v: c.in_(v),
    Op.NIN: lambda c, v: sa.or_(c.not_in(v), c.is_(None)),
}


class FilterCompiler:
    def __init__(self, registry: Registry, tables: dict[str, sa.Table]) -> None:
        self.registry = registry
        self.tables = tables

    def compile(self, spec: EntitySpec[Any], table: sa.FromClause, node: Filter | None) -> Any:
        if node is None:
            return sa.true()
        if isinstance(node, Condition):
            column = table.c[node.field]
            if node.op is Op.IS_NULL:
                return column.is_(None) if node.value else column.is_not(None)
            if node.value is None:
                # eq/ne null mean "is null" / "is not null"; anything else with null matches nothing
                if node.op is Op.EQ:
                    return column.is_(None)
                if node.op is Op.NE:
                    return column.is_not(None)
                return sa.false()
            return _BINARY[node.op](column, plain(node.value))
        if isinstance(node, AllOf):
            return sa.and_(sa.true(), *(self.compile(spec, table, p) for p in node.parts))
        if isinstance(node, AnyOf):
            return sa.or_(sa.false(), *(self.compile(spec, table, p) for p in node.parts))
        if isinstance(node, Not):
            return sa.not_(self.compile(spec, table, node.part))
        if isinstance(node, Related):
            return self._exists(spec, table, node)
        raise TypeError(f"unknown filter node {node!r}")

    def _exists(self, spec: EntitySpec[Any], table: sa.FromClause, node: Related) -> Any:
        relation = spec.relation(node.relation)
        target_spec = self.registry[relation.target]
        target = self.tables[target_spec.name].alias()
        link = target.c[relation.remote] == table.c[relation.local]
        return sa.exists(
            sa.select(sa.literal(1))
            .select_from(target)
            .where(link, target.c.deleted_at.is_(None), self.compile(target_spec, target, node.filter))
        )


def order_columns(table: sa.FromClause, order: Sequence[Order], reverse: bool) -> list[Any]:
    columns: list[Any] = []
    for o in order:
        descending = o.descending != reverse
        column = table.c[o.field]
        columns.append(column.desc().nulls_first() if descending else column.asc().nulls_last())
    return columns


def with_tiebreak(order: Sequence[Order]) -> tuple[Order, ...]:
    """The id ends every ordering, so that rows with equal keys still have one order."""
    if any(o.field == "id" for o in order):
        return tuple(order)
    return (*order, Order("id", order[-1].descending if order else False))


def _greater(column: Any, value: Any) -> Any:
    """Strictly greater than ``value``, NULL being the largest value."""
    return sa.false() if value is None else sa.or_(column > value, column.is_(None))


def _smaller(column: Any, value: Any) -> Any:
    return column.is_not(None) if value is None else column < value


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def keyset(table: sa.FromClause, order: Sequence[Order], values: Sequence[Any], reverse: bool) -> Any:
    """Rows after the cursor ``values`` in ``order`` (before it when ``reverse``)."""
    alternatives = []
    for i, o in enumerate(order):
        descending = o.descending != reverse
        column = table.c[o.field]
        step = _smaller(column, values[i]) if descending else _greater(column, values[i])
        alternatives.append(sa.and_(*(_same(table.c[p.field], values[j]) for j, p in enumerate(order[:i])), step))
    return sa.or_(*alternatives)
