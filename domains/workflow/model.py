from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date

from domains.kernel.entity import Entity


class WorkflowKind(enum.Enum):
    ONBOARDING = "ONBOARDING"
    OFFBOARDING = "OFFBOARDING"
    REVIEW = "REVIEW"


class WorkflowStatus(enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


ACTIVE = (WorkflowStatus.NOT_STARTED, WorkflowStatus.IN_PROGRESS)


@dataclass(kw_only=True)
class Workflow(Entity):
    """A process (onboarding, offboarding, a review) that one person goes through."""

    company_id: uuid.UUID
    subject_id: uuid.UUID
    kind: WorkflowKind
    title: str
    status: WorkflowStatus = WorkflowStatus.NOT_STARTED
    due_on: date | None = None
