"""The workflow bounded context: a process one person goes through, and its steps.

A workflow moves ``IN_PROGRESS → COMPLETED | CANCELLED | REJECTED``. A step is of one of
three kinds: a DOCUMENT the subject hands in (``PENDING → SUBMITTED → DONE``, back to
``PENDING`` when the document is rejected), a TASK someone does and says so
(``PENDING → DONE``), an APPROVAL decided by a chain of approvers in order (``PENDING`` while
a level waits, ``DONE`` after the last one approved, ``REJECTED`` when a rejection ends the
workflow, back to ``WAITING`` when it sends the workflow back to an earlier step). A step
whose dependencies are not done yet is ``WAITING``. Every other move is an
``InvalidTransition``, whoever asks.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domains.kernel.entity import Entity
from domains.kernel.errors import Invalid, InvalidTransition


class WorkflowKind(enum.Enum):
    ONBOARDING = "ONBOARDING"
    OFFBOARDING = "OFFBOARDING"
    REVIEW = "REVIEW"


class WorkflowStatus(enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


class StepStatus(enum.Enum):
    WAITING = "WAITING"
    PENDING = "PENDING"
    SUBMITTED = "SUBMITTED"
    DONE = "DONE"
    REJECTED = "REJECTED"


class StepKind(enum.Enum):
    DOCUMENT = "DOCUMENT"
    TASK = "TASK"
    APPROVAL = "APPROVAL"


class AssigneeGroup(enum.Enum):
    """A step waiting on a group rather than one person: any HR of the company decides."""

    HR = "HR"


ACTIVE = (WorkflowStatus.NOT_STARTED, WorkflowStatus.IN_PROGRESS)

WORKFLOW_TRANSITIONS: dict[WorkflowStatus, frozenset[WorkflowStatus]] = {
    WorkflowStatus.NOT_STARTED: frozenset({WorkflowStatus.IN_PROGRESS, WorkflowStatus.CANCELLED}),
    WorkflowStatus.IN_PROGRESS: frozenset(
        {WorkflowStatus.COMPLETED, WorkflowStatus.CANCELLED, WorkflowStatus.REJECTED}
    ),
    WorkflowStatus.COMPLETED: frozenset(),
    WorkflowStatus.CANCELLED: frozenset(),
    WorkflowStatus.REJECTED: frozenset(),
}

STEP_TRANSITIONS: dict[StepKind, dict[StepStatus, frozenset[StepStatus]]] = {
    StepKind.DOCUMENT: {
        StepStatus.WAITING: frozenset({StepStatus.PENDING}),
        StepStatus.PENDING: frozenset({StepStatus.SUBMITTED}),
        StepStatus.SUBMITTED: frozenset({StepStatus.DONE, StepStatus.PENDING}),
        StepStatus.DONE: frozenset(),
        StepStatus.REJECTED: frozenset(),
    },
    StepKind.TASK: {
        StepStatus.WAITING: frozenset({StepStatus.PENDING}),
        StepStatus.PENDING: frozenset({StepStatus.DONE}),
        StepStatus.SUBMITTED: frozenset(),
        StepStatus.DONE: frozenset(),
        StepStatus.REJECTED: frozenset(),
    },
    StepKind.APPROVAL: {
        StepStatus.WAITING: frozenset({StepStatus.PENDING}),
        StepStatus.PENDING: frozenset({StepStatus.DONE, StepStatus.REJECTED, StepStatus.WAITING}),
        StepStatus.SUBMITTED: frozenset(),
        StepStatus.DONE: frozenset(),
        StepStatus.REJECTED: frozenset(),
    },
}

MAX_REASON_LENGTH = 500
MAX_NOTE_LENGTH = 2000


def checked_text(name: str, value: str, limit: int, *, blank_allowed: bool = False) -> str:
    value = value.strip()
    if not value and not blank_allowed:
        raise Invalid.field(name, "must not be blank")
    if len(value) > limit:
        raise Invalid.field(name, f"must be at most {limit} characters")
    return value


@dataclass(kw_only=True)
class Workflow(Entity):
    """A process (onboarding, offboarding, a review) that one person goes through."""

    company_id: uuid.UUID
    subject_id: uuid.UUID
    kind: WorkflowKind
    title: str
    status: WorkflowStatus = WorkflowStatus.NOT_STARTED
    due_on: date | None = None
    started_on: date | None = None
    cancel_reason: str | None = None
    template_version_id: uuid.UUID | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def overdue(self, today: date) -> bool:
        return self.active and self.due_on is not None and self.due_on < today

    def _move(self, target: WorkflowStatus) -> WorkflowStatus:
        if target not in WORKFLOW_TRANSITIONS[self.status]:
            raise InvalidTransition("Workflow", self.status.value, target.value)
        previous, self.status = self.status, target
        return previous

    def start(self) -> WorkflowStatus:
        return self._move(WorkflowStatus.IN_PROGRESS)

    def complete(self, steps: Iterable[WorkflowStep]) -> WorkflowStatus:
        """Only once every step is done."""
        if any(step.status is not StepStatus.DONE for step in steps):
            raise InvalidTransition("Workflow", self.status.value, WorkflowStatus.COMPLETED.value)
        return self._move(WorkflowStatus.COMPLETED)

    def reject(self, reason: str) -> WorkflowStatus:
        previous = self._move(WorkflowStatus.REJECTED)
        self.cancel_reason = reason
        return previous

    def cancel(self, reason: str) -> WorkflowStatus:
        reason = checked_text("reason", reason, MAX_REASON_LENGTH)
        previous = self._move(WorkflowStatus.CANCELLED)
        self.cancel_reason = reason
        return previous


@dataclass(kw_only=True)
class WorkflowStep(Entity):
    """One thing a workflow waits for: a document handed in and approved, a task done, or an
    approval given by each approver of its chain in turn.

    ``assignee_id`` (or ``assignee_group``) is who it waits on now, resolved when it opened;
    ``approvers`` the chain's rules in order (comma-separated, see ``domains/workflow/plan.py``),
    ``level`` the index of the approver deciding now."""

    company_id: uuid.UUID
    workflow_id: uuid.UUID
    subject_id: uuid.UUID
    document_id: uuid.UUID | None = None
    document_kind: str | None = None
    title: str
    position: int
    kind: StepKind = StepKind.DOCUMENT
    key: str = ""
    status: StepStatus = StepStatus.PENDING
    due_on: date | None = None
    depends_on: str = ""
    assignee_rule: str | None = None
    assignee_id: uuid.UUID | None = None
    assignee_group: AssigneeGroup | None = None
    approvers: str = ""
    level: int = 0
    reject_to: str | None = None
    note: str | None = None
    done_by: uuid.UUID | None = None
    round: int = 0
    """How many times it opened: an approval chain's decisions count within one round."""

    @property
    def dependencies(self) -> tuple[str, ...]:
        return tuple(k for k in self.depends_on.split(",") if k)

    @property
    def chain(self) -> tuple[str, ...]:
        return tuple(r for r in self.approvers.split(",") if r)

    @property
    def is_open(self) -> bool:
        return self.status is StepStatus.PENDING

    def overdue(self, today: date) -> bool:
        return (
            self.status in (StepStatus.PENDING, StepStatus.SUBMITTED)
            and self.due_on is not None
            and self.due_on < today
        )

    def waits_on(self, user_id: uuid.UUID, is_hr: bool) -> bool:
        return self.is_open and (self.assignee_id == user_id or (self.assignee_group is AssigneeGroup.HR and is_hr))

    def _move(self, target: StepStatus) -> StepStatus:
        if target not in STEP_TRANSITIONS[self.kind][self.status]:
            raise InvalidTransition("WorkflowStep", self.status.value, target.value)
        previous, self.status = self.status, target
        return previous

    def open(self, assignee_id: uuid.UUID | None, group: AssigneeGroup | None) -> StepStatus:
        """From WAITING; or once DONE, when a rejection sends the workflow back to it (a
        document step then waits for a new document)."""
        previous: StepStatus = self.status
        if previous is StepStatus.DONE:
            self.status = StepStatus.PENDING
        else:
            self._move(StepStatus.PENDING)
        self.assignee_id, self.assignee_group = assignee_id, group
        self.level, self.note, self.done_by = 0, None, None
        self.round += 1
        return previous

    def submit(self) -> StepStatus:
        return self._move(StepStatus.SUBMITTED)

    def finish(self) -> StepStatus:
        return self._move(StepStatus.DONE)

    def reopen(self) -> StepStatus:
        return self._move(StepStatus.PENDING)

    def complete_task(self, actor_id: uuid.UUID, note: str) -> StepStatus:
        if self.kind is not StepKind.TASK:
            raise Invalid.field("step_id", f"this step is a {self.kind.value.lower()}, not a task")
        note = checked_text("note", note, MAX_NOTE_LENGTH, blank_allowed=True)
        previous = self._move(StepStatus.DONE)
        self.note, self.done_by = note or None, actor_id
        return previous

    def next_level(self, assignee_id: uuid.UUID | None, group: AssigneeGroup | None) -> None:
        """The chain's next approver decides now (the step stays PENDING)."""
        if self.kind is not StepKind.APPROVAL or not self.is_open or self.level + 1 >= len(self.chain):
            raise InvalidTransition("WorkflowStep", self.status.value, StepStatus.PENDING.value)
        self.level += 1
        self.assignee_id, self.assignee_group = assignee_id, group

    @property
    def last_level(self) -> bool:
        return self.level + 1 >= len(self.chain)

    def approve_last(self, actor_id: uuid.UUID) -> StepStatus:
        if self.kind is not StepKind.APPROVAL:
            raise Invalid.field("step_id", f"this step is a {self.kind.value.lower()}, not an approval")
        previous = self._move(StepStatus.DONE)
        self.done_by = actor_id
        return previous

    def reject(self, reason: str) -> StepStatus:
        previous = self._move(StepStatus.REJECTED)
        self.note = reason
        return previous

    def send_back(self, reason: str) -> StepStatus:
        """Rejected to an earlier step: waits for it again, and starts its chain afresh."""
        previous = self._move(StepStatus.WAITING)
        self.assignee_id, self.assignee_group, self.level, self.note = None, None, 0, reason
        return previous
