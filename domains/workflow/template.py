"""Workflow templates as a company's data: a template and its steps, edited by HR through
the generic CRUD, and the immutable versions that publishing makes of them.

A workflow starts from a version and keeps it: editing or republishing its template later
changes no workflow in flight.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domains.kernel.entity import Entity
from domains.kernel.errors import InvalidTransition
from domains.workflow.model import StepKind, WorkflowKind
from domains.workflow.plan import DueFrom


class TemplateStatus(enum.Enum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


@dataclass(kw_only=True)
class WorkflowTemplate(Entity):
    """A company's way of running a workflow (its onboarding in Berlin, its offboarding)."""

    company_id: uuid.UUID
    code: str | None = None
    title: str
    kind: WorkflowKind
    status: TemplateStatus = TemplateStatus.DRAFT
    published_version: int | None = None

    def published(self, version: WorkflowTemplateVersion) -> TemplateStatus:
        if self.status is TemplateStatus.ARCHIVED:
            raise InvalidTransition("WorkflowTemplate", self.status.value, TemplateStatus.PUBLISHED.value)
        previous, self.status = self.status, TemplateStatus.PUBLISHED
        self.published_version = version.number
        return previous

    def archive(self) -> TemplateStatus:
        if self.status is TemplateStatus.ARCHIVED:
            raise InvalidTransition("WorkflowTemplate", self.status.value, TemplateStatus.ARCHIVED.value)
        previous, self.status = self.status, TemplateStatus.ARCHIVED
        return previous


@dataclass(kw_only=True)
class WorkflowTemplateStep(Entity):
    """One step of a template as HR writes it (``domains/workflow/plan.py`` reads the rules)."""

    company_id: uuid.UUID
    template_id: uuid.UUID
    key: str
    title: str
    kind: StepKind
    position: int = 0
    document_kind: str | None = None
    assignee: str | None = None
    approvers: str | None = None
    depends_on: str | None = None
    reject_to: str | None = None
    due_from: DueFrom = DueFrom.DUE
    due_offset_days: int = 0


@dataclass(kw_only=True)
class WorkflowTemplateVersion(Entity):
    """What a template was when it was published: never edited."""

    company_id: uuid.UUID
    template_id: uuid.UUID
    number: int
    kind: WorkflowKind
    title: str
    definition: str
    published_by: uuid.UUID | None = None


@dataclass(kw_only=True)
class WorkflowDecision(Entity):
    """One approver's decision on an approval step, and on whose behalf a delegate made it."""

    company_id: uuid.UUID
    workflow_id: uuid.UUID
    step_id: uuid.UUID
    subject_id: uuid.UUID
    level: int
    approved: bool
    decided_by: uuid.UUID
    on_behalf_of: uuid.UUID | None = None
    reason: str | None = None
    round: int = 0


@dataclass(kw_only=True)
class ApprovalDelegation(Entity):
    """While it runs (both days included), ``delegate_id`` decides what waits on ``delegator_id``."""

    company_id: uuid.UUID
    delegator_id: uuid.UUID
    delegate_id: uuid.UUID
    starts_on: date
    ends_on: date

    def covers(self, day: date) -> bool:
        return self.deleted_at is None and self.starts_on <= day <= self.ends_on

    def problems(self) -> Iterable[tuple[str, str]]:
        if self.delegate_id == self.delegator_id:
            yield "delegate_id", "nobody delegates to herself"
        if self.ends_on < self.starts_on:
            yield "ends_on", "must not be before startsOn"
