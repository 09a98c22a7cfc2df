"""What the workflow context needs from outside, as ports the composition root implements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from domains.kernel.principal import Principal, Role
from domains.kernel.query import Filter, Page, PageRequest
from domains.workflow.model import Workflow, WorkflowStep
from domains.workflow.template import (
    ApprovalDelegation,
    WorkflowDecision,
    WorkflowTemplate,
    WorkflowTemplateStep,
    WorkflowTemplateVersion,
)


class People(Protocol):
    async def company_of(self, actor: Principal, user_id: uuid.UUID) -> uuid.UUID | None:
        """The company of a person ``actor`` may see, or None (absent and hidden look alike)."""
        ...

    async def manager_of(self, user_id: uuid.UUID) -> uuid.UUID | None:
        """The person's manager now, as the system sees it."""
        ...

    async def roles_of(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Role]:
        """Each existing person's role (the absent are left out)."""
        ...

    async def members(self, company_id: uuid.UUID, user_ids: Sequence[uuid.UUID]) -> frozenset[uuid.UUID]:
        """Those of ``user_ids`` who are of the company."""
        ...

    async def names_of(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]: ...


class DocumentRequests(Protocol):
    async def request(
        self,
        actor: Principal | None,
        *,
        company_id: uuid.UUID,
        owner_id: uuid.UUID,
        kind: str,
        title: str,
        due_on: date,
    ) -> uuid.UUID:
        """Creates a ``REQUESTED`` document of ``kind`` for ``owner_id``; returns its id.
        ``actor`` None: the workflow asks on its own (a step opened by another one's end)."""
        ...

    def kinds(self) -> frozenset[str]:
        """The document kinds there are, by their published value."""
        ...


TemplateEntity = WorkflowTemplate | WorkflowTemplateStep | WorkflowTemplateVersion | WorkflowDecision
Stored = Workflow | WorkflowStep | TemplateEntity


class WorkflowStore(Protocol):
    """The context's entities as the commands see them (``domains/workflow/store.py``)."""

    async def visible(self, actor: Principal, id: uuid.UUID) -> Workflow | None:
        """The workflow if ``actor`` may read it (absent and hidden look alike)."""
        ...

    async def get(self, id: uuid.UUID) -> Workflow | None:
        """The workflow as the system sees it (a reaction acts for no one in particular)."""
        ...

    async def step(self, id: uuid.UUID) -> WorkflowStep | None:
        """A step as the system sees it (its assignee need not be able to read it)."""
        ...

    async def step_waiting_for(self, document_id: uuid.UUID) -> WorkflowStep | None: ...

    async def steps_of(self, workflow_id: uuid.UUID) -> list[WorkflowStep]:
        """In their order."""
        ...

    async def template(self, actor: Principal, id: uuid.UUID) -> WorkflowTemplate | None:
        """A template ``actor`` may read."""
        ...

    async def template_by_code(self, company_id: uuid.UUID, code: str) -> WorkflowTemplate | None: ...

    async def template_steps(self, template_id: uuid.UUID) -> list[WorkflowTemplateStep]: ...

    async def version(self, template_id: uuid.UUID, number: int) -> WorkflowTemplateVersion | None: ...

    async def decisions(self, step_id: uuid.UUID) -> list[WorkflowDecision]: ...

    async def delegations_to(self, delegate_id: uuid.UUID, day: date) -> list[ApprovalDelegation]:
        """The delegations running on ``day`` that let ``delegate_id`` decide for others."""
        ...

    async def find_steps(self, filter: Filter, page: PageRequest, limit: int) -> Page[WorkflowStep]:
        """Steps by due date, as the system sees them."""
        ...

    async def count_steps(self, filter: Filter) -> int: ...

    async def workflows(self, ids: Sequence[uuid.UUID]) -> list[Workflow]: ...

    async def add(self, entity: Stored) -> None: ...

    async def save(self, entity: Stored, expected_version: int) -> None:
        """Writes ``entity`` at ``expected_version + 1``, or raises ``Conflict`` when stale."""
        ...
