"""The events the workflow context publishes, and the document events it reacts to.

Published shape (``payload``): ``workflowId``, ``subjectId``, ``companyId``, ``stepId`` (null
for the workflow's own status), ``previousStatus`` (null when the workflow starts),
``status``, and snapshots ``workflow`` and ``step`` of the records as they now are.
"""

from __future__ import annotations

import uuid

from domains.kernel.entity import snapshot
from domains.kernel.events import DomainEvent
from domains.workflow.model import StepStatus, Workflow, WorkflowStatus, WorkflowStep

AGGREGATE = "Workflow"
WORKFLOW_STARTED = "WorkflowStarted"
WORKFLOW_STATUS_CHANGED = "WorkflowStatusChanged"
WORKFLOW_STEP_STATUS_CHANGED = "WorkflowStepStatusChanged"
WORKFLOW_EVENT_TYPES = (WORKFLOW_STARTED, WORKFLOW_STATUS_CHANGED, WORKFLOW_STEP_STATUS_CHANGED)

# The document context's published events this context reacts to (by name and shape only).
DOCUMENT_SUBMITTED = "DocumentSubmitted"
DOCUMENT_APPROVED = "DocumentApproved"
DOCUMENT_REJECTED = "DocumentRejected"
DOCUMENT_EVENT_TYPES = (DOCUMENT_SUBMITTED, DOCUMENT_APPROVED, DOCUMENT_REJECTED)


def workflow_changed(
    workflow: Workflow, previous: WorkflowStatus | None, actor_id: uuid.UUID | None, reason: str | None = None
) -> DomainEvent:
    payload = {
        "workflowId": str(workflow.id),
        "subjectId": str(workflow.subject_id),
        "companyId": str(workflow.company_id),
        "stepId": None,
        "previousStatus": previous.value if previous else None,
        "status": workflow.status.value,
        "workflow": snapshot(workflow),
        "step": None,
    }
    if reason is not None:
        payload["reason"] = reason
    return DomainEvent(
        type=WORKFLOW_STARTED if previous is None else WORKFLOW_STATUS_CHANGED,
        aggregate=AGGREGATE,
        aggregate_id=workflow.id,
        company_id=workflow.company_id,
        actor_id=actor_id,
        payload=payload,
    )


def step_changed(
    workflow: Workflow, step: WorkflowStep, previous: StepStatus, actor_id: uuid.UUID | None
) -> DomainEvent:
    return DomainEvent(
        type=WORKFLOW_STEP_STATUS_CHANGED,
        aggregate=AGGREGATE,
        aggregate_id=workflow.id,
        company_id=workflow.company_id,
        actor_id=actor_id,
        payload={
            "workflowId": str(workflow.id),
            "subjectId": str(workflow.subject_id),
            "companyId": str(workflow.company_id),
            "stepId": str(step.id),
            "previousStatus": previous.value,
            "status": step.status.value,
            "workflow": snapshot(workflow),
            "step": snapshot(step),
        },
    )
