"""What the workflow context needs from outside, as ports the composition root implements."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Protocol

from domains.kernel.principal import Principal
from domains.workflow.model import Workflow, WorkflowStep


class People(Protocol):
    async def company_of(self, actor: Principal, user_id: uuid.UUID) -> uuid.UUID | None:
        """The company of a person ``actor`` may see, or None (absent and hidden look alike)."""
        ...


class DocumentRequests(Protocol):
    async def request(
        self,
        actor: Principal,
        *,
        company_id: uuid.UUID,
        owner_id: uuid.UUID,
        kind: str,
        title: str,
        due_on: date,
    ) -> uuid.UUID:
        """Creates a ``REQUESTED`` document of ``kind`` for ``owner_id``; returns its id."""
        ...


class WorkflowStore(Protocol):
    """Workflows and their steps as the commands see them (``domains/workflow/store.py``)."""

    async def visible(self, actor: Principal, id: uuid.UUID) -> Workflow | None:
        """The workflow if ``actor`` may read it (absent and hidden look alike)."""
        ...

    async def get(self, id: uuid.UUID) -> Workflow | None:
        """The workflow as the system sees it (a reaction acts for no one in particular)."""
        ...

    async def step_waiting_for(self, document_id: uuid.UUID) -> WorkflowStep | None: ...

    async def steps_of(self, workflow_id: uuid.UUID) -> list[WorkflowStep]:
        """In their order."""
        ...

    async def add(self, entity: Workflow | WorkflowStep) -> None: ...

    async def save(self, entity: Workflow | WorkflowStep, expected_version: int) -> None:
        """Writes ``entity`` at ``expected_version + 1``, or raises ``Conflict`` when stale."""
        ...
