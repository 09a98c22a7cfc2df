"""The workflow context's entities, declared once: workflows and their steps (statuses move
only through the commands in ``domains/workflow/service.py``: the generic inputs never carry
them), the templates HR edits, their published versions, the approvers' decisions and their
delegations."""

from __future__ import annotations

from domains.kernel.entity import (
    Access,
    EntitySpec,
    NamedQuery,
    Reach,
    belongs_to,
    boolean,
    choice,
    day,
    has_many,
    integer,
    not_blank,
    reference,
    string,
)
from domains.kernel.principal import Principal, Role
from domains.kernel.query import Condition, Op, Order
from domains.workflow.model import (
    ACTIVE,
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    AssigneeGroup,
    StepKind,
    StepStatus,
    Workflow,
    WorkflowKind,
    WorkflowStatus,
    WorkflowStep,
)
from domains.workflow.plan import MAX_DUE_OFFSET_DAYS, DueFrom
from domains.workflow.template import (
    ApprovalDelegation,
    TemplateStatus,
    WorkflowDecision,
    WorkflowTemplate,
    WorkflowTemplateStep,
    WorkflowTemplateVersion,
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
        day("started_on", on_create=False, on_update=False),
        string("cancel_reason", max_length=MAX_REASON_LENGTH, on_create=False, on_update=False, filterable=False),
        reference("template_version_id", "WorkflowTemplateVersion", on_create=False, on_update=False),
    ),
    relations=(
        belongs_to("subject", "User", "subject_id"),
        belongs_to("company", "Company", "company_id"),
        has_many("steps", "WorkflowStep", "workflow_id"),
        belongs_to("template_version", "WorkflowTemplateVersion", "template_version_id"),
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

# Steps come into being with their workflow and move with its documents, tasks and
# approvals: read-only here.
WORKFLOW_STEP = EntitySpec(
    name="WorkflowStep",
    plural="workflowSteps",
    model=WorkflowStep,
    table="workflow_steps",
    description="One thing a workflow waits for (a document, a task, an approval), and where it stands.",
    owner_field="subject_id",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("workflow_id", "Workflow", required=True, on_update=False),
        reference("subject_id", "User", required=True, on_update=False),
        reference("document_id", "Document", on_update=False),
        string("document_kind", max_length=64, on_update=False),
        string("title", required=True, min_length=1, max_length=200, sortable=True),
        integer("position", required=True, minimum=0, sortable=True),
        choice("kind", StepKind, required=True, on_update=False),
        string("key", required=True, max_length=64, on_update=False),
        choice("status", StepStatus, required=True, on_create=False, on_update=False, sortable=True),
        day("due_on", sortable=True),
        string("depends_on", required=True, max_length=1000, on_update=False, filterable=False),
        string("assignee_rule", max_length=200, on_update=False, filterable=False),
        reference("assignee_id", "User", on_create=False, on_update=False),
        choice("assignee_group", AssigneeGroup, on_create=False, on_update=False),
        string("approvers", required=True, max_length=1000, on_update=False, filterable=False),
        integer("level", required=True, minimum=0, on_create=False, on_update=False),
        string("reject_to", max_length=64, on_update=False, filterable=False),
        string("note", max_length=MAX_NOTE_LENGTH, on_create=False, on_update=False, filterable=False),
        reference("done_by", "User", on_create=False, on_update=False),
        integer("round", required=True, minimum=0, on_create=False, on_update=False, filterable=False),
    ),
    relations=(
        belongs_to("workflow", "Workflow", "workflow_id"),
        belongs_to("document", "Document", "document_id"),
    ),
    access=Access(read=READ, create={}, update={}, delete={}, restore={}),
    default_order=(Order("position"), Order("created_at")),
)

HR_WRITES = {Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL}
HR_READS = {Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL}
KEY_PATTERN = r"[a-z0-9][a-z0-9-]*"  # kept as written in error paths (no camelCase)

# Edited by HR through the generic CRUD; its status and versions move by publishing and
# archiving (``publishWorkflowTemplate``, ``archiveWorkflowTemplate``).
WORKFLOW_TEMPLATE = EntitySpec(
    name="WorkflowTemplate",
    plural="workflowTemplates",
    model=WorkflowTemplate,
    table="workflow_templates",
    description="A company's way of running a workflow: its steps, published as immutable versions.",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        string("code", max_length=64, pattern=r"[A-Z0-9_]+", unique_within="company_id", sortable=True),
        string("title", required=True, min_length=1, max_length=200, sortable=True, validators=(not_blank,)),
        choice("kind", WorkflowKind, required=True, sortable=True),
        choice("status", TemplateStatus, required=True, on_create=False, on_update=False, sortable=True),
        integer("published_version", minimum=1, on_create=False, on_update=False),
    ),
    relations=(
        belongs_to("company", "Company", "company_id"),
        has_many("steps", "WorkflowTemplateStep", "template_id"),
        has_many("versions", "WorkflowTemplateVersion", "template_id"),
    ),
    access=Access(read=HR_READS, create=HR_WRITES, update=HR_WRITES, delete=HR_WRITES),
    default_order=(Order("title"), Order("created_at")),
)

WORKFLOW_TEMPLATE_STEP = EntitySpec(
    name="WorkflowTemplateStep",
    plural="workflowTemplateSteps",
    model=WorkflowTemplateStep,
    table="workflow_template_steps",
    description="A step of a template as HR writes it; checked when the template is published.",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("template_id", "WorkflowTemplate", required=True, on_update=False),
        string("key", required=True, max_length=64, pattern=KEY_PATTERN, sortable=True),
        string("title", required=True, min_length=1, max_length=200, validators=(not_blank,)),
        choice("kind", StepKind, required=True),
        integer("position", required=True, minimum=0, sortable=True),
        string("document_kind", max_length=64),
        string(
            "assignee",
            max_length=200,
            filterable=False,
            description="A task's assignee: SUBJECT, MANAGER, HR or USER:<id>.",
        ),
        string(
            "approvers",
            max_length=1000,
            filterable=False,
            description="An approval's chain in order, comma-separated: MANAGER, HR or USER:<id>.",
        ),
        string(
            "depends_on",
            max_length=1000,
            filterable=False,
            description="Keys of the steps first done, comma-separated.",
        ),
        string(
            "reject_to", max_length=64, filterable=False, description="Where a rejection sends back (else REJECTED)."
        ),
        choice("due_from", DueFrom, required=True),
        integer("due_offset_days", required=True, minimum=-MAX_DUE_OFFSET_DAYS, maximum=MAX_DUE_OFFSET_DAYS),
    ),
    relations=(belongs_to("template", "WorkflowTemplate", "template_id"),),
    access=Access(read=HR_READS, create=HR_WRITES, update=HR_WRITES, delete=HR_WRITES),
    default_order=(Order("position"), Order("created_at")),
)

# Written once by publishing; never edited.
WORKFLOW_TEMPLATE_VERSION = EntitySpec(
    name="WorkflowTemplateVersion",
    plural="workflowTemplateVersions",
    model=WorkflowTemplateVersion,
    table="workflow_template_versions",
    description="A template as it was published: what the workflows started from it follow.",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("template_id", "WorkflowTemplate", required=True, on_update=False),
        integer("number", required=True, minimum=1, sortable=True),
        choice("kind", WorkflowKind, required=True),
        string("title", required=True, max_length=200),
        string("definition", required=True, filterable=False, description="The steps, as JSON."),
        reference("published_by", "User"),
    ),
    relations=(belongs_to("template", "WorkflowTemplate", "template_id"),),
    access=Access(read=HR_READS, create={}, update={}, delete={}, restore={}),
    default_order=(Order("number", descending=True), Order("created_at")),
)

WORKFLOW_DECISION = EntitySpec(
    name="WorkflowDecision",
    plural="workflowDecisions",
    model=WorkflowDecision,
    table="workflow_decisions",
    description="An approver's decision on an approval step (a delegate's names on whose behalf).",
    owner_field="subject_id",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("workflow_id", "Workflow", required=True, on_update=False),
        reference("step_id", "WorkflowStep", required=True, on_update=False),
        reference("subject_id", "User", required=True, on_update=False),
        integer("level", required=True, minimum=0, sortable=True),
        boolean("approved", required=True),
        reference("decided_by", "User", required=True),
        reference("on_behalf_of", "User"),
        string("reason", max_length=MAX_REASON_LENGTH, filterable=False),
        integer("round", required=True, minimum=0),
    ),
    relations=(
        belongs_to("step", "WorkflowStep", "step_id"),
        belongs_to("decider", "User", "decided_by"),
    ),
    access=Access(read=READ, create={}, update={}, delete={}, restore={}),
    default_order=(Order("created_at"),),
)

# A person delegates her own approvals; HR may set them for anyone of the company.
APPROVAL_DELEGATION = EntitySpec(
    name="ApprovalDelegation",
    plural="approvalDelegations",
    model=ApprovalDelegation,
    table="approval_delegations",
    description="For a date range, a colleague decides the approvals that wait on someone.",
    owner_field="delegator_id",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("delegator_id", "User", required=True, on_update=False),
        reference("delegate_id", "User", required=True),
        day("starts_on", required=True, sortable=True),
        day("ends_on", required=True, sortable=True),
    ),
    relations=(
        belongs_to("delegator", "User", "delegator_id"),
        belongs_to("delegate", "User", "delegate_id"),
    ),
    access=Access(
        read=READ,
        create={Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        update={Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        delete={Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
    ),
    default_order=(Order("starts_on"), Order("created_at")),
)

SPECS = (
    WORKFLOW,
    WORKFLOW_STEP,
    WORKFLOW_TEMPLATE,
    WORKFLOW_TEMPLATE_STEP,
    WORKFLOW_TEMPLATE_VERSION,
    WORKFLOW_DECISION,
    APPROVAL_DELEGATION,
)

__all__ = ["SPECS", "WORKFLOW", "WORKFLOW_STEP", "StepStatus", "WorkflowKind", "WorkflowStatus"]
