"""The events the workflow context publishes (class names and fields are the contract).

Published shape (``payload``): ``workflowId``, ``subjectId``, ``companyId``, ``stepId`` (null
for the workflow's own status), ``previousStatus`` (null when the workflow starts),
``status``, snapshots ``workflow`` and ``step`` of the records as they now are (the step's
``kind``, its assignee and approval level among them), ``reason`` for a cancellation, a
rejection or a decision, and ``previousAssigneeId`` when a step moved away from someone (an
approval chain's next level, a decision) so that her inbox learns of it. The actor and the time are on the event's row.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from domains.kernel.entity import snapshot
from domains.kernel.events import ENVELOPE, OMITTED_WHEN_NONE, DomainEvent, now
from domains.workflow.model import StepStatus, Workflow, WorkflowStatus, WorkflowStep

AGGREGATE = "Workflow"


@dataclass(frozen=True, kw_only=True)
class WorkflowEvent(DomainEvent):
    aggregate: ClassVar[str] = AGGREGATE
    aggregate_key: ClassVar[str] = "workflow_id"

    workflow_id: uuid.UUID
    subject_id: uuid.UUID
    company_id: uuid.UUID
    step_id: uuid.UUID | None = None
    previous_status: str | None
    status: str
    workflow: Mapping[str, Any]
    step: Mapping[str, Any] | None = None
    reason: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    previous_assignee_id: uuid.UUID | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    on_behalf_of: uuid.UUID | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    opened_steps: list[Mapping[str, Any]] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    actor_id: uuid.UUID | None = field(metadata=ENVELOPE)
    occurred_at: datetime = field(default_factory=now, metadata=ENVELOPE)


@dataclass(frozen=True, kw_only=True)
class WorkflowStarted(WorkflowEvent):
    """A workflow began, IN_PROGRESS (``previousStatus`` null); ``openedSteps`` are the steps
    that opened with it (those without dependencies), as snapshots."""


@dataclass(frozen=True, kw_only=True)
class WorkflowStatusChanged(WorkflowEvent):
    """The workflow's own status moved (completed, cancelled with a ``reason``)."""


@dataclass(frozen=True, kw_only=True)
class WorkflowStepStatusChanged(WorkflowEvent):
    """One of its steps moved: opened, its document handed in or reviewed, its task done, an
    approver of its chain decided (``previousStatus`` may equal ``status``: the next level)."""


def workflow_changed(
    workflow: Workflow,
    previous: WorkflowStatus | None,
    actor_id: uuid.UUID | None,
    reason: str | None = None,
    opened: Sequence[WorkflowStep] = (),
) -> WorkflowEvent:
    kind = WorkflowStarted if previous is None else WorkflowStatusChanged
    return kind(
        opened_steps=[snapshot(s) for s in opened] if opened else None,
        workflow_id=workflow.id,
        subject_id=workflow.subject_id,
        company_id=workflow.company_id,
        previous_status=previous.value if previous else None,
        status=workflow.status.value,
        workflow=snapshot(workflow),
        reason=reason,
        actor_id=actor_id,
    )


def step_changed(
    workflow: Workflow,
    step: WorkflowStep,
    previous: StepStatus,
    actor_id: uuid.UUID | None,
    *,
    previous_assignee_id: uuid.UUID | None = None,
    on_behalf_of: uuid.UUID | None = None,
    reason: str | None = None,
) -> WorkflowEvent:
    return WorkflowStepStatusChanged(
        workflow_id=workflow.id,
        subject_id=workflow.subject_id,
        company_id=workflow.company_id,
        step_id=step.id,
        previous_status=previous.value,
        status=step.status.value,
        workflow=snapshot(workflow),
        step=snapshot(step),
        previous_assignee_id=previous_assignee_id,
        on_behalf_of=on_behalf_of,
        reason=reason,
        actor_id=actor_id,
    )


EVENT_TYPES = tuple(e.published_name() for e in (WorkflowStarted, WorkflowStatusChanged, WorkflowStepStatusChanged))
