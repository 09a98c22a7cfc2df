"""Workflow, declared once (the read side; its transitions come with their own issue)."""

from __future__ import annotations

from domains.kernel.entity import (
    Access,
    EntitySpec,
    NamedQuery,
    Reach,
    belongs_to,
    choice,
    day,
    reference,
    string,
)
from domains.kernel.principal import Principal, Role
from domains.kernel.query import Condition, Op, Order
from domains.workflow.model import ACTIVE, Workflow, WorkflowKind, WorkflowStatus


def active(_: Principal) -> Condition:
    return Condition("status", Op.IN, list(ACTIVE))


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
    ),
    relations=(
        belongs_to("subject", "User", "subject_id"),
        belongs_to("company", "Company", "company_id"),
    ),
    access=Access(
        read={Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        create={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        update={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        delete={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
    ),
    default_order=(Order("due_on"), Order("created_at")),
    queries=(NamedQuery("active_workflows", active, description="Workflows not yet completed or cancelled."),),
)

__all__ = ["WORKFLOW", "WorkflowKind", "WorkflowStatus"]
