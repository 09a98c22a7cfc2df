"""A read as plain data: which entities, fields, relations and pages an operation selects.

``schema/compiled`` builds it from a GraphQL operation (only when every selected field is one
the declarations generate); ``adapters/sql/compiled`` turns each root field into one SQL
statement that builds the JSON answer. Neither imports the other; both read this.

``key`` is always the response key (the alias, or the field's name), in selection order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domains.kernel.entity import FieldType
from domains.kernel.query import Filter, Order


@dataclass(frozen=True, slots=True)
class Constant:
    """A fixed string, such as ``__typename``."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Value:
    """A declared field, read from its column as GraphQL serialises it."""

    key: str
    column: str
    type: FieldType


@dataclass(frozen=True, slots=True)
class GlobalId:
    """A Relay global id: ``base64("<type_name>:<uuid in column>")``, null when the column is."""

    key: str
    column: str
    type_name: str


@dataclass(frozen=True, slots=True)
class BelongsTo:
    """The row this one's ``local`` column points at, if the reader may see it; else null."""

    key: str
    local: str
    node: NodeSelection


@dataclass(frozen=True, slots=True)
class PageSlice:
    """One keyset page of ``entity``, checked by the kernel (size, ordering) before it got here.

    ``filter`` is the caller's filter (and a named query's), not yet scoped to the reader:
    the adapter adds the read scope with the kernel's access functions, as the loaders do.
    """

    entity: str
    filter: Filter | None
    order: tuple[Order, ...]
    limit: int
    cursor: str | None
    backwards: bool


@dataclass(frozen=True, slots=True)
class Link:
    """A has-many relation: the target's ``remote`` column equals the parent's ``local``."""

    remote: str
    local: str


@dataclass(frozen=True, slots=True)
class TotalCount:
    key: str


@dataclass(frozen=True, slots=True)
class PageInfoField:
    """``hasNextPage``, ``hasPreviousPage``, ``startCursor`` or ``endCursor``."""

    key: str
    name: str


@dataclass(frozen=True, slots=True)
class PageInfo:
    key: str
    fields: tuple[PageInfoField | Constant, ...]


@dataclass(frozen=True, slots=True)
class Cursor:
    key: str


@dataclass(frozen=True, slots=True)
class EdgeNode:
    key: str
    node: NodeSelection


@dataclass(frozen=True, slots=True)
class Edges:
    key: str
    fields: tuple[Cursor | EdgeNode | Constant, ...]


@dataclass(frozen=True, slots=True)
class Connection:
    """A Relay connection over ``page``; ``link`` is set for a has-many relation."""

    key: str
    page: PageSlice
    link: Link | None
    fields: tuple[TotalCount | PageInfo | Edges | Constant, ...]


NodeField = Constant | Value | GlobalId | BelongsTo | Connection


@dataclass(frozen=True, slots=True)
class NodeSelection:
    entity: str
    fields: tuple[NodeField, ...]


@dataclass(frozen=True, slots=True)
class RootObject:
    """``x(id)``, ``node(id)`` or ``me``: one row by id, null when absent or not visible.
    ``node`` is None when the id already told it is none of ours (no SQL needed)."""

    key: str
    id: uuid.UUID | None
    node: NodeSelection | None


@dataclass(frozen=True, slots=True)
class RootConnection:
    connection: Connection


@dataclass(frozen=True, slots=True)
class RootConstant:
    constant: Constant


RootField = RootObject | RootConnection | RootConstant


@dataclass(frozen=True, slots=True)
class ReadPlan:
    operation_name: str | None
    fields: tuple[RootField, ...]
