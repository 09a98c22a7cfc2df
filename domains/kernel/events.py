"""Domain events: typed, frozen records of what happened, one class per kind, in their context.

An entity records the events of its own moves (``Entity.record_event``); the unit of work
(``domains/kernel/unit_of_work.py``) collects them from the entities it saved, writes them to
the outbox and hands them to the bus (``domains/kernel/bus.py``) before its transaction
commits. The published form is derived from the class: its name is the event's ``type``, and
its fields, keyed in camelCase with JSON values, are the ``payload`` other contexts and
subscribers read. Renaming a class or a field changes a published contract.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar

ENVELOPE: dict[str, Any] = {"published": False}
"""``field(metadata=ENVELOPE)``: carried by the event's row (actor, time), not in its payload."""
OMITTED_WHEN_NONE: dict[str, Any] = {"omit_none": True}
"""``field(metadata=OMITTED_WHEN_NONE)``: in the payload only when it has a value."""


def now() -> datetime:
    return datetime.now(UTC)


def camel(name: str) -> str:
    """``due_on`` as GraphQL and the published payloads spell it: ``dueOn``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


class DomainEvent:
    """The base of every event class: subclasses are ``@dataclass(frozen=True, kw_only=True)``
    and declare these fields (in the order their payload lists them) plus their own."""

    aggregate: ClassVar[str]
    """The kind of entity it happened to (``"Document"``)."""
    aggregate_key: ClassVar[str]
    """The field holding that entity's id."""

    company_id: uuid.UUID
    actor_id: uuid.UUID | None
    occurred_at: datetime

    @classmethod
    def published_name(cls) -> str:
        return cls.__name__

    @property
    def type(self) -> str:
        return self.published_name()

    @property
    def aggregate_id(self) -> uuid.UUID:
        value = getattr(self, self.aggregate_key)
        assert isinstance(value, uuid.UUID)
        return value

    @property
    def payload(self) -> dict[str, Any]:
        """The published shape: every field but the envelope's, camelCase keys, JSON values."""
        assert dataclasses.is_dataclass(self), f"{type(self).__name__} must be a dataclass"
        shape: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("published", True) and not (f.metadata.get("omit_none") and value is None):
                shape[camel(f.name)] = json_value(value)
        return shape
