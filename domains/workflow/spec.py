"""Workflow and WorkflowStep, declared once. Their statuses move only through the commands in
``domains/workflow/service.py``: the generic inputs never carry them."""

from __future__ import annotations

from domains.kernel.entity import (
    Access,
    EntitySpec,
    NamedQuery,
    Reach,
    belongs_to,
    choice,
    day,
    has_many,
    integer,
    reference,
    string,
)
from domains.kernel.principal import Principal, Role
from domains.kernel.query import Condition, Op, Order
from domains.workflow.model import (
    ACTIVE,
    MAX_REASON_LENGTH,
    StepStatus,
    Workflow,
    WorkflowKind,
    WorkflowStatus,
    WorkflowStep,
)


def active(_: Principal) -> Condition:
    return Condition("status", Op.IN, list(ACTIVE))


READ = {Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL}

WORKFLOW = EntitySpec(
    name="Workflow",
    plural="workflows",
    model=Workflow,
    table="workflows",
    description="A process one person goes through: onboarding, offboarding, a review.",
    owner_field="subject_id",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("subject_id", "User", required=True, on_update=False),
        choice("kind", WorkflowKind, required=True, sortable=True),
        string("title", required=True, min_length=1, max_length=200, sortable=True),
        choice("status", WorkflowStatus, required=True, on_create=False, on_update=False, sortable=True),
        day("due_on", sortable=True),
        string("cancel_reason", max_length=MAX_REASON_LENGTH, on_create=False, on_update=False, filterable=False),
    ),
    relations=(
        belongs_to("subject", "User", "subject_id"),
        belongs_to("company", "Company", "company_id"),
        has_many("steps", "WorkflowStep", "workflow_id"),
    ),
    access=Access(
        read=READ,
        create={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        update={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        delete={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
    ),
    default_order=(Order("due_on"), Order("created_at")),
    queries=(NamedQuery("active_workflows", active, description="Workflows not yet completed or cancelled."),),
)

# Steps come into being with their workflow and move with its documents: read-only here.
WORKFLOW_STEP = EntitySpec(
    name="WorkflowStep",
    plural="workflowSteps",
    model=WorkflowStep,
    table="workflow_steps",
    description="One document a workflow waits for, and where it stands.",
    owner_field="subject_id",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("workflow_id", "Workflow", required=True, on_update=False),
        reference("subject_id", "User", required=True, on_update=False),
        reference("document_id", "Document", required=True, on_update=False),
        string("document_kind", required=True, max_length=64, on_update=False),
        string("title", required=True, min_length=1, max_length=200, sortable=True),
        integer("position", required=True, minimum=0, sortable=True),
        choice("status", StepStatus, required=True, on_create=False, on_update=False, sortable=True),
        day("due_on", sortable=True),
    ),
    relations=(
        belongs_to("workflow", "Workflow", "workflow_id"),
        belongs_to("document", "Document", "document_id"),
    ),
    access=Access(read=READ, create={}, update={}, delete={}, restore={}),
    default_order=(Order("position"), Order("created_at")),
)

__all__ = ["WORKFLOW", "WORKFLOW_STEP", "StepStatus", "WorkflowKind", "WorkflowStatus"]
