"""The entity-schema declaration language: pure data that ``adapters/sql`` and ``schema/`` read.

One ``EntitySpec`` per entity, written in its domain. It says which fields there are and their
constraints, how entities relate, who may do what, which hooks run and which named queries
exist. Nothing here imports a framework; the factories elsewhere step through this data.
"""

from __future__ import annotations

import builtins
import dataclasses
import enum
import re
import types
import typing
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from domains.kernel.events import DomainEvent, camel, json_value
from domains.kernel.principal import Principal, Role
from domains.kernel.query import Filter, Order


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class Entity:
    """What every entity has. Subclasses add their fields and their behaviour."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    version: int = 1
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    deleted_at: datetime | None = None

    def problems(self) -> Iterable[tuple[str, str]]:
        """Entity-level invariants: ``(field, message)`` for each one broken."""
        return ()

    def frozen_because(self) -> str | None:
        """Why nobody may edit this entity's fields any more (an approved document), else None.
        Its commands still decide for themselves what they may do."""
        return None

    # Kept outside the dataclass fields: events are not state (no column, no snapshot, no
    # equality), only what the unit of work takes from the entity once it saved it.
    def record_event(self, event: DomainEvent) -> None:
        self.__dict__.setdefault("_events", []).append(event)

    def take_events(self) -> list[DomainEvent]:
        """The events recorded since the last call, oldest first; the entity keeps none."""
        taken: list[DomainEvent] = self.__dict__.pop("_events", [])
        return taken


E = TypeVar("E", bound=Entity)


def snapshot(entity: Entity) -> dict[str, Any]:
    """The entity's fields as JSON values, keyed in camelCase: how an event carries a record."""
    return {camel(f.name): json_value(getattr(entity, f.name)) for f in dataclasses.fields(entity)}


def _from_json(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, types.UnionType):  # ``X | None``
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if isinstance(kind, type) and issubclass(kind, enum.Enum | int):
        return kind(value)
    return value


def from_snapshot(model: type[E], data: Mapping[str, Any]) -> E:
    """The entity ``snapshot`` described (keys it lacks take the field's default)."""
    hints = typing.get_type_hints(model)
    values = {
        f.name: _from_json(hints[f.name], data[camel(f.name)])
        for f in dataclasses.fields(model)
        if camel(f.name) in data
    }
    return model(**values)


SYSTEM_FIELDS = ("id", "version", "created_at", "updated_at", "deleted_at")


class FieldType(enum.Enum):
    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    ID = "id"
    ENUM = "enum"


Validator = Callable[[Any], str | None]
"""Returns a message when the value is not acceptable, else None."""


def not_blank(value: Any) -> str | None:
    return "must not be blank" if isinstance(value, str) and not value.strip() else None


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    required: bool = False
    enum: builtins.type[enum.Enum] | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    unique: bool = False
    # Unique among the rows that share this other field's value, e.g. "company_id": an email
    # is unique within its company, and another company's rows neither conflict nor leak.
    unique_within: str | None = None
    # For a unique value the system sets (a slug): when taken, the service appends "-2", "-3",
    # ... instead of refusing, so the caller learns nothing of the rows that hold the others.
    suffix_when_taken: bool = False
    references: str | None = None
    filterable: bool = True
    sortable: bool = False
    on_create: bool = True
    on_update: bool = True
    # Who may change the field once set, when not everyone with update rights may (an
    # employee may edit her document's note, not its due date). None: everyone who may update.
    updatable_by: frozenset[Role] | None = None
    validators: tuple[Validator, ...] = ()
    description: str = ""
    # A value the audit trail must not hold (a token, a tax number): its entries say the field
    # changed, never from what to what.
    secret: bool = False

    @property
    def is_unique(self) -> bool:
        return self.unique or self.unique_within is not None

    def check(self, value: Any) -> list[str]:
        """Messages for a present, non-null value (type coercion happened at the edge)."""
        problems: list[str] = []
        if isinstance(value, str):
            if self.min_length is not None and len(value) < self.min_length:
                problems.append(f"must be at least {self.min_length} characters")
            if self.max_length is not None and len(value) > self.max_length:
                problems.append(f"must be at most {self.max_length} characters")
            if self.pattern is not None and not re.fullmatch(self.pattern, value):
                problems.append("has an invalid format")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.minimum is not None and value < self.minimum:
                problems.append(f"must be at least {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                problems.append(f"must be at most {self.maximum:g}")
        if self.enum is not None and not isinstance(value, self.enum):
            problems.append(f"must be one of {', '.join(m.name for m in self.enum)}")
        for validator in self.validators:
            message = validator(value)
            if message:
                problems.append(message)
        return problems

    def updatable_for(self, principal: Principal) -> bool:
        return self.on_update and (self.updatable_by is None or bool(self.updatable_by & principal.roles))


def string(name: str, **options: Any) -> Field:
    return Field(name, FieldType.STRING, **options)


def integer(name: str, **options: Any) -> Field:
    return Field(name, FieldType.INT, **options)


def boolean(name: str, **options: Any) -> Field:
    return Field(name, FieldType.BOOL, **options)


def day(name: str, **options: Any) -> Field:
    return Field(name, FieldType.DATE, **options)


def timestamp(name: str, **options: Any) -> Field:
    return Field(name, FieldType.DATETIME, **options)


def choice(name: str, enum_type: type[enum.Enum], **options: Any) -> Field:
    return Field(name, FieldType.ENUM, enum=enum_type, **options)


def reference(name: str, target: str, **options: Any) -> Field:
    return Field(name, FieldType.ID, references=target, **options)


@dataclass(frozen=True)
class Relation:
    """``many=False``: this entity's ``local`` field holds the target's id (belongs to).
    ``many=True``: the target's ``remote`` field holds this entity's id (has many)."""

    name: str
    target: str
    local: str
    remote: str
    many: bool
    description: str = ""


def belongs_to(name: str, target: str, foreign_key: str) -> Relation:
    return Relation(name, target, local=foreign_key, remote="id", many=False)


def has_many(name: str, target: str, foreign_key: str) -> Relation:
    return Relation(name, target, local="id", remote=foreign_key, many=True)


class Reach(enum.Enum):
    """How far a role's right extends: its own rows, its company's, or everything."""

    OWN = "own"
    COMPANY = "company"
    ALL = "all"


RoleReach = Mapping[Role, Reach]


@dataclass(frozen=True)
class Access:
    read: RoleReach
    create: RoleReach
    update: RoleReach
    delete: RoleReach
    restore: RoleReach = field(default_factory=lambda: {Role.ADMIN: Reach.ALL})


class Hook(enum.Enum):
    BEFORE_CREATE = "before_create"
    AFTER_CREATE = "after_create"
    BEFORE_UPDATE = "before_update"
    AFTER_UPDATE = "after_update"
    BEFORE_DELETE = "before_delete"
    AFTER_DELETE = "after_delete"
    AFTER_COMMIT = "after_commit"


@dataclass(slots=True)
class HookEvent(Generic[E]):
    """What a lifecycle hook sees. ``previous`` is the stored state on update and delete."""

    principal: Principal
    entity: E
    previous: E | None = None


HookFn = Callable[[HookEvent[Any]], Awaitable[None] | None]


@dataclass(frozen=True)
class NamedQuery:
    """A named list query declared beside its entity, exposed like the generic list."""

    name: str
    filter: Callable[[Principal], Filter]
    order: tuple[Order, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class EntitySpec(Generic[E]):
    name: str
    plural: str
    model: type[E]
    table: str
    fields: tuple[Field, ...]
    access: Access
    tenant_field: str = "company_id"
    owner_field: str | None = None
    relations: tuple[Relation, ...] = ()
    default_order: tuple[Order, ...] = (Order("created_at", descending=True),)
    hooks: Mapping[Hook, Sequence[HookFn]] = field(default_factory=dict)
    queries: tuple[NamedQuery, ...] = ()
    description: str = ""

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def relation(self, name: str) -> Relation:
        for r in self.relations:
            if r.name == name:
                return r
        raise KeyError(f"{self.name} has no relation {name!r}")

    @property
    def sortable(self) -> tuple[str, ...]:
        return ("created_at", "updated_at", *(f.name for f in self.fields if f.sortable))


# The system fields as declared fields, so that filters, ordering and the adapters treat
# them like any other. ``id`` is the key; the rest are maintained by the kernel.
SYSTEM_FIELD_DECLARATIONS = (
    Field("id", FieldType.ID, on_create=False, on_update=False),
    Field("version", FieldType.INT, required=True, on_create=False, on_update=False),
    Field("created_at", FieldType.DATETIME, required=True, on_create=False, on_update=False, sortable=True),
    Field("updated_at", FieldType.DATETIME, required=True, on_create=False, on_update=False, sortable=True),
    Field("deleted_at", FieldType.DATETIME, on_create=False, on_update=False, filterable=False),
)


def all_fields(spec: EntitySpec[Any]) -> tuple[Field, ...]:
    return (*SYSTEM_FIELD_DECLARATIONS, *spec.fields)


class Registry:
    """All entity declarations, by name. Built once at start-up."""

    def __init__(self, specs: Iterable[EntitySpec[Any]]) -> None:
        self._specs = {s.name: s for s in specs}
        for spec in self._specs.values():
            for rel in spec.relations:
                if rel.target not in self._specs:
                    raise ValueError(f"{spec.name}.{rel.name} targets unknown entity {rel.target}")

    def __getitem__(self, name: str) -> EntitySpec[Any]:
        return self._specs[name]

    def __iter__(self) -> Any:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)


def is_date(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)
