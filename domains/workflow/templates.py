"""The workflows the product knows, declared as data: which documents each one requires.

Document kinds are named by their published value (``"ID"``, ``"CONTRACT"``, …): the workflow
context asks for documents through a port and never imports the document context.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from domains.workflow.model import WorkflowKind


class WorkflowTemplate(enum.Enum):
    EMPLOYEE_ONBOARDING = "EMPLOYEE_ONBOARDING"
    OFFBOARDING = "OFFBOARDING"


@dataclass(frozen=True)
class RequiredDocument:
    kind: str
    title: str
    days_before_due: int
    """The document is due this many days before the workflow is (never before it starts)."""

    def due_on(self, started: date, workflow_due: date) -> date:
        return max(started, workflow_due - timedelta(days=self.days_before_due))


@dataclass(frozen=True)
class Template:
    kind: WorkflowKind
    title: str
    documents: tuple[RequiredDocument, ...]


TEMPLATES: dict[WorkflowTemplate, Template] = {
    WorkflowTemplate.EMPLOYEE_ONBOARDING: Template(
        kind=WorkflowKind.ONBOARDING,
        title="Employee onboarding",
        documents=(
            RequiredDocument("ID", "Identity document", days_before_due=14),
            RequiredDocument("CONTRACT", "Signed employment contract", days_before_due=7),
            RequiredDocument("TAX_FORM", "Tax form", days_before_due=0),
        ),
    ),
    WorkflowTemplate.OFFBOARDING: Template(
        kind=WorkflowKind.OFFBOARDING,
        title="Offboarding",
        documents=(
            RequiredDocument("OTHER", "Equipment return form", days_before_due=3),
            RequiredDocument("TAX_FORM", "Final tax statement", days_before_due=0),
        ),
    ),
}
