"""Domain events: what happened, recorded by entities or commands, kept by the unit of work.

A command records events on the request's unit of work (``EventRecorder``). Before the
transaction commits, the unit of work runs the in-process handlers registered for each
event's type (they may record more events) and writes every event to the outbox, in the same
transaction as the change: a rolled-back change leaves no event, a committed one is never lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """``payload`` holds JSON values only (str, int, float, bool, None, lists and dicts of them);
    it is the event's published shape, which other contexts read without importing this one."""

    type: str
    aggregate: str
    aggregate_id: uuid.UUID
    company_id: uuid.UUID
    actor_id: uuid.UUID | None
    payload: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=_now)


EventHandler = Callable[[DomainEvent], Awaitable[None]]
"""Runs inside the transaction that recorded the event, before commit."""


class EventRecorder(Protocol):
    """The unit of work as a command sees it: somewhere to record what happened."""

    def record(self, event: DomainEvent) -> None: ...
