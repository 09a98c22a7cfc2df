"""The ``WorkflowStore`` port over the kernel's entity store: the read rules of the
declarations, and its one ``save``."""

from __future__ import annotations

import uuid

from domains.kernel.access import read_scope
from domains.kernel.ports import EntityStore
from domains.kernel.principal import Principal
from domains.kernel.query import Condition, Op, PageRequest
from domains.workflow.model import Workflow, WorkflowStep
from domains.workflow.spec import WORKFLOW, WORKFLOW_STEP

MAX_STEPS = 100


class KernelWorkflowStore:
    def __init__(self, store: EntityStore) -> None:
        self.store = store

    async def visible(self, actor: Principal, id: uuid.UUID) -> Workflow | None:
        found = await self.store.get_many(WORKFLOW, [id], read_scope(WORKFLOW, actor))
        return found[0] if found else None

    async def get(self, id: uuid.UUID) -> Workflow | None:
        found = await self.store.get_many(WORKFLOW, [id], None)
        return found[0] if found else None

    async def step_waiting_for(self, document_id: uuid.UUID) -> WorkflowStep | None:
        page = await self.store.find(
            WORKFLOW_STEP, Condition("document_id", Op.EQ, document_id), WORKFLOW_STEP.default_order, PageRequest(), 1
        )
        return page.items[0] if page.items else None

    async def steps_of(self, workflow_id: uuid.UUID) -> list[WorkflowStep]:
        page = await self.store.find(
            WORKFLOW_STEP,
            Condition("workflow_id", Op.EQ, workflow_id),
            WORKFLOW_STEP.default_order,
            PageRequest(),
            MAX_STEPS,
        )
        return list(page.items)

    async def add(self, entity: Workflow | WorkflowStep) -> None:
        await self.store.insert(WORKFLOW if isinstance(entity, Workflow) else WORKFLOW_STEP, entity)

    async def save(self, entity: Workflow | WorkflowStep, expected_version: int) -> None:
        await self.store.save(WORKFLOW if isinstance(entity, Workflow) else WORKFLOW_STEP, entity, expected_version)
