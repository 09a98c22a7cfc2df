"""Watching workflows move: replay after a known event, then live events, in order, once each,
and only those the watcher may see (checked for every event, with the read rules of the spec).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from domains.kernel.access import covers, require_reach
from domains.kernel.entity import from_snapshot
from domains.kernel.errors import DomainError, Invalid
from domains.kernel.principal import Principal, Role
from domains.workflow.events import AGGREGATE
from domains.workflow.model import StepKind, StepStatus, Workflow, WorkflowStatus, WorkflowStep
from domains.workflow.spec import WORKFLOW

T = TypeVar("T")

REPLAY_BATCH = 500


class EventsExpired(DomainError):
    """The events after the asked-for id are no longer kept: resuming would leave a gap."""

    code = "EVENTS_EXPIRED"


class FellBehind(DomainError):
    """This watcher read too slowly and its queue was dropped: resume with afterEventId."""

    code = "FELL_BEHIND"


class OutboxEvent(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def aggregate(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...
    @property
    def occurred_at(self) -> datetime: ...


class LiveEvents(Protocol):
    start_id: int
    overflowed: bool

    def __aiter__(self) -> AsyncIterator[OutboxEvent]: ...
    def close(self) -> None: ...


class EventFeed(Protocol):
    """The process's view of the outbox (``adapters/events``)."""

    async def subscribe(self) -> LiveEvents: ...
    async def read_after(self, after_id: int, limit: int) -> Sequence[OutboxEvent]: ...
    async def oldest_id(self) -> int | None: ...
    async def last_id_handed_out(self) -> int: ...
    def decoded(self, event: OutboxEvent, decode: Callable[[OutboxEvent], T]) -> T:
        """``decode(event)``, computed once per event for all the process's watchers (read-only)."""
        ...


class WorkflowChangeKind(enum.Enum):
    """What a workflow event tells: the workflow started, its own status moved, or a step's did."""

    WORKFLOW_STARTED = "WORKFLOW_STARTED"
    WORKFLOW_STATUS_CHANGED = "WORKFLOW_STATUS_CHANGED"
    STEP_STATUS_CHANGED = "STEP_STATUS_CHANGED"


@dataclass(frozen=True, slots=True)
class WorkflowChange:
    """``workflow`` and ``step`` are the records as the change left them; a previous status is
    set only for the kind it belongs to (``previous_workflow_status`` for a workflow's move,
    ``previous_step_status`` for a step's)."""

    event_id: int
    kind: WorkflowChangeKind
    workflow: Workflow
    step: WorkflowStep | None
    previous_workflow_status: WorkflowStatus | None
    previous_step_status: StepStatus | None
    occurred_at: datetime
    previous_assignee_id: uuid.UUID | None = None
    opened: tuple[WorkflowStep, ...] = ()

    @property
    def workflow_status(self) -> WorkflowStatus:
        return self.workflow.status

    @property
    def status(self) -> str:
        """The step's status for a step's change, else the workflow's (deprecated in the API)."""
        return str((self.step.status if self.step is not None else self.workflow.status).value)

    @property
    def previous_status(self) -> str | None:
        previous = self.previous_step_status or self.previous_workflow_status
        return str(previous.value) if previous is not None else None


def change_of(event: OutboxEvent) -> WorkflowChange | None:
    """The workflow change an event tells (None for other events), from the published shape
    (``domains/workflow/events.py``): a ``step`` snapshot makes it a
    step's change; a workflow's change without ``previousStatus`` is its start."""
    if event.aggregate != AGGREGATE or "workflow" not in event.payload:
        return None
    step = event.payload.get("step")
    previous = event.payload.get("previousStatus")
    previous_workflow = previous_step = None
    if step:
        kind = WorkflowChangeKind.STEP_STATUS_CHANGED
        previous_step = StepStatus(previous)
    elif previous is None:
        kind = WorkflowChangeKind.WORKFLOW_STARTED
    else:
        kind = WorkflowChangeKind.WORKFLOW_STATUS_CHANGED
        previous_workflow = WorkflowStatus(previous)
    return WorkflowChange(
        event_id=event.id,
        kind=kind,
        workflow=from_snapshot(Workflow, event.payload["workflow"]),
        step=from_snapshot(WorkflowStep, step) if step else None,
        previous_workflow_status=previous_workflow,
        previous_step_status=previous_step,
        occurred_at=event.occurred_at,
        opened=tuple(from_snapshot(WorkflowStep, s) for s in event.payload.get("openedSteps") or ()),
        previous_assignee_id=uuid.UUID(event.payload["previousAssigneeId"])
        if event.payload.get("previousAssigneeId")
        else None,
    )


def visible_change(event: OutboxEvent, principal: Principal, workflow_id: uuid.UUID | None) -> WorkflowChange | None:
    """The change an event tells, if it is about a workflow this watcher may see."""
    return visible(change_of(event), principal, workflow_id)


def visible(
    change: WorkflowChange | None, principal: Principal, workflow_id: uuid.UUID | None
) -> WorkflowChange | None:
    if change is None or (workflow_id is not None and change.workflow.id != workflow_id):
        return None
    reach = require_reach(principal, WORKFLOW.access.read, "read", WORKFLOW)
    return change if covers(WORKFLOW, principal, reach, change.workflow) else None


async def watch(
    feed: EventFeed, principal: Principal, workflow_id: uuid.UUID | None, after_event_id: int | None
) -> AsyncIterator[WorkflowChange]:
    require_reach(principal, WORKFLOW.access.read, "read", WORKFLOW)
    async for change in _changes(feed, after_event_id):
        seen = visible(change, principal, workflow_id)
        if seen is not None:
            yield seen


@dataclass(frozen=True, slots=True)
class InboxChange:
    """A step that waits, or waited, on the watcher (or on one who delegated to her) moved."""

    event_id: int
    step: WorkflowStep
    waits_on_viewer: bool
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Delegator:
    user_id: uuid.UUID
    is_hr: bool


def inbox_changes(
    change: WorkflowChange | None, principal: Principal, delegators: Sequence[Delegator]
) -> list[InboxChange]:
    """What a workflow change tells the watcher's inbox: the step that moved, or the steps
    that opened with a workflow's start, as far as they concern her."""
    if change is None or change.workflow.company_id != principal.company_id:
        return []
    steps = (change.step,) if change.step is not None else change.opened
    found = (inbox_change(change, step, principal, delegators) for step in steps)
    return [c for c in found if c is not None]


def inbox_change(
    change: WorkflowChange, step: WorkflowStep, principal: Principal, delegators: Sequence[Delegator]
) -> InboxChange | None:
    people = [(principal.user_id, Role.HR in principal.roles), *((d.user_id, d.is_hr) for d in delegators)]
    waits = any(step.waits_on(user, hr) for user, hr in people)
    waited = any(change.previous_assignee_id == user for user, _ in people) or any(
        step.assignee_id == user for user, _ in people
    )
    if step.kind is StepKind.APPROVAL and step.subject_id == principal.user_id:
        return None  # never hers to decide
    if not (waits or waited or (step.assignee_group is not None and any(hr for _, hr in people))):
        return None
    return InboxChange(change.event_id, step, waits, change.occurred_at)


async def watch_inbox(
    feed: EventFeed, principal: Principal, delegators: Sequence[Delegator], after_event_id: int | None
) -> AsyncIterator[InboxChange]:
    """The moves of the steps in (or leaving) the watcher's inbox. Delegations are read when
    the watch starts."""
    async for change in _changes(feed, after_event_id):
        for found in inbox_changes(change, principal, delegators):
            yield found


async def _changes(feed: EventFeed, after_event_id: int | None) -> AsyncIterator[WorkflowChange | None]:
    """Every workflow change after ``after_event_id`` (replayed), then live ones, once each."""
    if after_event_id is not None and after_event_id < 0:
        raise Invalid.field("after_event_id", "must not be negative")
    live = await feed.subscribe()  # first, so that nothing committed from here on is missed
    try:
        last = live.start_id
        if after_event_id is not None:
            # Ids count every company's events. An id past every one handed out reads as the
            # newest: what follows it is what follows now. Refusing it ("no event has it yet")
            # let anyone bisect the counter, and so count other companies' events; waiting
            # for the counter to reach it would tell the same to one who makes an event.
            last = min(after_event_id, await feed.last_id_handed_out())
            oldest = await feed.oldest_id()
            if oldest is not None and last + 1 < oldest:
                # (the oldest kept id is not named: the message says no more than the code)
                raise EventsExpired(f"events after {after_event_id} are no longer kept: start afresh")
            while True:
                batch = await feed.read_after(last, REPLAY_BATCH)
                for event in batch:
                    last = event.id
                    yield feed.decoded(event, change_of)
                if len(batch) < REPLAY_BATCH:
                    break
        async for event in live:
            if event.id <= last:
                continue  # already replayed
            last = event.id
            yield feed.decoded(event, change_of)
        if live.overflowed:
            raise FellBehind(f"too many events were waiting; resume with afterEventId {last}")
    finally:
        live.close()
