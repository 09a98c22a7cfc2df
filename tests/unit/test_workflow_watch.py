"""Watching workflows against an in-memory feed: replay then live, in order, once each;
a resume older than what is kept, and a watcher too far behind, are typed errors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from domains.kernel.errors import Invalid
from domains.kernel.principal import Principal, Role
from domains.workflow.events import step_changed, workflow_changed
from domains.workflow.live import EventsExpired, FellBehind, WorkflowChangeKind, change_of, watch
from domains.workflow.model import StepStatus, Workflow, WorkflowKind, WorkflowStatus, WorkflowStep

COMPANY = uuid.uuid4()
HR = Principal(uuid.uuid4(), COMPANY, frozenset({Role.HR}))


@dataclass(frozen=True)
class Stored:
    id: int
    aggregate: str
    payload: dict[str, Any]
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def stored(id: int) -> Stored:
    workflow = Workflow(company_id=COMPANY, subject_id=uuid.uuid4(), kind=WorkflowKind.ONBOARDING, title=f"W{id}")
    event = workflow_changed(workflow, None, None)
    return Stored(id, event.aggregate, dict(event.payload))


class Live:
    def __init__(self, start_id: int) -> None:
        self.start_id = start_id
        self.overflowed = False
        self.queue: asyncio.Queue[Stored | None] = asyncio.Queue()

    def __aiter__(self) -> AsyncIterator[Stored]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Stored]:
        while (event := await self.queue.get()) is not None:
            yield event

    def close(self) -> None:
        pass


class Feed:
    def __init__(self, rows: list[Stored], cursor: int) -> None:
        self.rows = rows
        self.live = Live(cursor)

    async def subscribe(self) -> Live:
        return self.live

    async def read_after(self, after_id: int, limit: int) -> Sequence[Stored]:
        return [r for r in self.rows if r.id > after_id][:limit]

    async def oldest_id(self) -> int | None:
        return min((r.id for r in self.rows), default=None)

    async def last_id_handed_out(self) -> int:
        return max((r.id for r in self.rows), default=0)

    def decoded(self, event: Stored, decode: Any) -> Any:
        return decode(event)


async def _take(changes: AsyncIterator[Any], n: int) -> list[int]:
    return [(await asyncio.wait_for(anext(changes), 5)).event_id for _ in range(n)]


async def test_replay_then_live_in_order_without_duplicates() -> None:
    feed = Feed([stored(i) for i in range(1, 6)], cursor=4)
    for i in (4, 5, 6, 7):  # 4 and 5 are both in the table and on the live queue
        feed.live.queue.put_nowait(stored(i))
    changes = watch(feed, HR, None, after_event_id=2)
    assert await _take(changes, 5) == [3, 4, 5, 6, 7]


async def test_without_after_event_id_only_live_events_come() -> None:
    feed = Feed([stored(i) for i in range(1, 4)], cursor=3)
    feed.live.queue.put_nowait(stored(4))
    assert await _take(watch(feed, HR, None, None), 1) == [4]


async def test_a_resume_older_than_what_is_kept_is_a_typed_error() -> None:
    feed = Feed([stored(i) for i in range(10, 12)], cursor=11)
    with pytest.raises(EventsExpired):
        await anext(watch(feed, HR, None, after_event_id=5))
    assert await _take(watch(feed, HR, None, after_event_id=9), 2) == [10, 11]


async def test_a_resume_after_an_id_not_yet_handed_out_is_one_after_the_newest() -> None:
    """Not an error (that told anyone the global count of events), nor a wait for the counter
    to reach the id: the live events that follow come, as after the newest id."""
    for after in (3, 4, 10**30):
        feed = Feed([stored(i) for i in range(1, 4)], cursor=3)
        feed.live.queue.put_nowait(stored(4))
        assert await _take(watch(feed, HR, None, after_event_id=after), 1) == [4]
    with pytest.raises(Invalid):
        await anext(watch(Feed([], cursor=0), HR, None, after_event_id=-1))


async def test_a_watcher_whose_queue_was_dropped_is_told_to_resume() -> None:
    feed = Feed([], cursor=0)
    feed.live.overflowed = True
    feed.live.queue.put_nowait(None)
    with pytest.raises(FellBehind):
        await anext(watch(feed, HR, None, None))


def test_each_event_tells_its_kind_with_typed_statuses() -> None:
    workflow = Workflow(company_id=COMPANY, subject_id=uuid.uuid4(), kind=WorkflowKind.ONBOARDING, title="W")
    workflow.status = WorkflowStatus.IN_PROGRESS
    step = WorkflowStep(
        company_id=COMPANY,
        workflow_id=workflow.id,
        subject_id=workflow.subject_id,
        document_id=uuid.uuid4(),
        document_kind="ID",
        title="Identity document",
        position=0,
        status=StepStatus.SUBMITTED,
    )
    started = workflow_changed(workflow, None, None)
    moved = step_changed(workflow, step, StepStatus.PENDING, None)
    workflow.status = WorkflowStatus.CANCELLED
    cancelled = workflow_changed(workflow, WorkflowStatus.IN_PROGRESS, None, "hired elsewhere")
    changes = [change_of(Stored(i, e.aggregate, dict(e.payload))) for i, e in enumerate([started, moved, cancelled])]
    assert [
        (c.kind, c.previous_workflow_status, c.workflow_status, c.previous_step_status, c.step and c.step.status)
        for c in changes
        if c is not None
    ] == [
        (WorkflowChangeKind.WORKFLOW_STARTED, None, WorkflowStatus.IN_PROGRESS, None, None),
        (
            WorkflowChangeKind.STEP_STATUS_CHANGED,
            None,
            WorkflowStatus.IN_PROGRESS,
            StepStatus.PENDING,
            StepStatus.SUBMITTED,
        ),
        (WorkflowChangeKind.WORKFLOW_STATUS_CHANGED, WorkflowStatus.IN_PROGRESS, WorkflowStatus.CANCELLED, None, None),
    ]
    # the untyped pair the API keeps for one release: a step's status for a step's change
    assert [(c.previous_status, c.status) for c in changes if c is not None] == [
        (None, "IN_PROGRESS"),
        ("PENDING", "SUBMITTED"),
        ("IN_PROGRESS", "CANCELLED"),
    ]
