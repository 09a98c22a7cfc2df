"""The workflow bounded context: a process one person goes through, and its steps.

A workflow moves ``IN_PROGRESS → COMPLETED | CANCELLED``; each of its steps waits for one
document and moves ``PENDING → SUBMITTED → DONE``, back to ``PENDING`` when the document is
rejected. Every other move is an ``InvalidTransition``, whoever asks.
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


class StepStatus(enum.Enum):
    PENDING = "PENDING"
    SUBMITTED = "SUBMITTED"
    DONE = "DONE"


ACTIVE = (WorkflowStatus.NOT_STARTED, WorkflowStatus.IN_PROGRESS)

WORKFLOW_TRANSITIONS: dict[WorkflowStatus, frozenset[WorkflowStatus]] = {
    WorkflowStatus.NOT_STARTED: frozenset({WorkflowStatus.IN_PROGRESS, WorkflowStatus.CANCELLED}),
    WorkflowStatus.IN_PROGRESS: frozenset({WorkflowStatus.COMPLETED, WorkflowStatus.CANCELLED}),
    WorkflowStatus.COMPLETED: frozenset(),
    WorkflowStatus.CANCELLED: frozenset(),
}

STEP_TRANSITIONS: dict[StepStatus, frozenset[StepStatus]] = {
    StepStatus.PENDING: frozenset({StepStatus.SUBMITTED}),
    StepStatus.SUBMITTED: frozenset({StepStatus.DONE, StepStatus.PENDING}),
    StepStatus.DONE: frozenset(),
}

MAX_REASON_LENGTH = 500


@dataclass(kw_only=True)
class Workflow(Entity):
    """A process (onboarding, offboarding, a review) that one person goes through."""

    company_id: uuid.UUID
    subject_id: uuid.UUID
    kind: WorkflowKind
    title: str
    status: WorkflowStatus = WorkflowStatus.NOT_STARTED
    due_on: date | None = None
    cancel_reason: str | None = None

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

    def cancel(self, reason: str) -> WorkflowStatus:
        reason = reason.strip()
        if not reason:
            raise Invalid.field("reason", "must not be blank")
        if len(reason) > MAX_REASON_LENGTH:
            raise Invalid.field("reason", f"must be at most {MAX_REASON_LENGTH} characters")
        previous = self._move(WorkflowStatus.CANCELLED)
        self.cancel_reason = reason
        return previous


@dataclass(kw_only=True)
class WorkflowStep(Entity):
    """One thing a workflow waits for: a document of a kind, handed in and approved."""

    company_id: uuid.UUID
    workflow_id: uuid.UUID
    subject_id: uuid.UUID
    document_id: uuid.UUID
    document_kind: str
    title: str
    position: int
    status: StepStatus = StepStatus.PENDING
    due_on: date | None = None

    def overdue(self, today: date) -> bool:
        return self.status is not StepStatus.DONE and self.due_on is not None and self.due_on < today

    def _move(self, target: StepStatus) -> StepStatus:
        if target not in STEP_TRANSITIONS[self.status]:
            raise InvalidTransition("WorkflowStep", self.status.value, target.value)
        previous, self.status = self.status, target
        return previous

    def submit(self) -> StepStatus:
        return self._move(StepStatus.SUBMITTED)

    def finish(self) -> StepStatus:
        return self._move(StepStatus.DONE)

    def reopen(self) -> StepStatus:
        return self._move(StepStatus.PENDING)
