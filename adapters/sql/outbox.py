"""The outbox: the ``events`` table every domain event is written to, inside its transaction.

Readers (``adapters/events``) follow it by id. Ids come from a sequence, and a transaction
that took an id may commit after one that took a later id, which would let a reader skip an
event. So writers take one transaction-level advisory lock before inserting: event-writing
transactions commit in the order of their ids. Writes without events never take it.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from domains.kernel.events import DomainEvent

NOTIFY_CHANNEL = "hrgraph_events"
OUTBOX_LOCK = 0x68726772  # any constant: the one advisory lock of the outbox's writers

EVENTS = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("aggregate", sa.String(64), nullable=False),
    sa.Column("aggregate_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("company_id", sa.Uuid(), nullable=False),
    sa.Column("actor_id", sa.Uuid(), nullable=True),
    sa.Column("payload", JSONB(), nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Index("ix_events_company_id_id", "company_id", "id"),
)


def _json_ready(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON-ready")


def event_rows(events: Sequence[DomainEvent]) -> list[dict[str, Any]]:
    return [
        {
            "type": e.type,
            "aggregate": e.aggregate,
            "aggregate_id": e.aggregate_id,
            "company_id": e.company_id,
            "actor_id": e.actor_id,
            # through json once, so a payload that is not JSON fails here, in the transaction
            "payload": json.loads(json.dumps(dict(e.payload), default=_json_ready)),
            "occurred_at": e.occurred_at,
        }
        for e in events
    ]


LOCK = sa.select(sa.func.pg_advisory_xact_lock(OUTBOX_LOCK))


def insert(events: Sequence[DomainEvent]) -> sa.Executable:
    return sa.insert(EVENTS).values(event_rows(events)).returning(EVENTS.c.id)


def notify(last_id: int) -> sa.Executable:
    return sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, str(last_id)))


class Executor(Protocol):
    async def execute(self, statement: sa.Executable) -> sa.CursorResult[Any]: ...


class SqlOutbox:
    """The kernel's ``Outbox`` port on one database handle."""

    def __init__(self, db: Executor) -> None:
        self.db = db

    async def lock(self) -> None:
        await self.db.execute(LOCK)

    async def append(self, events: Sequence[DomainEvent]) -> int:
        ids: Sequence[int] = (await self.db.execute(insert(events))).scalars().all()
        return max(ids)

    async def wake(self, last_id: int) -> None:
        await self.db.execute(notify(last_id))
