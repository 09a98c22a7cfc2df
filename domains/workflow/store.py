"""The ``WorkflowStore`` port over the kernel's entity store: the read rules of the
declarations, and its one ``save``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from domains.kernel.access import read_scope
from domains.kernel.entity import EntitySpec
from domains.kernel.ports import EntityStore
from domains.kernel.principal import Principal
from domains.kernel.query import AllOf, Condition, Filter, Op, Order, Page, PageRequest
from domains.workflow.model import Workflow, WorkflowStep
from domains.workflow.plan import MAX_STEPS
from domains.workflow.ports import Stored
from domains.workflow.spec import (
    APPROVAL_DELEGATION,
    WORKFLOW,
    WORKFLOW_DECISION,
    WORKFLOW_STEP,
    WORKFLOW_TEMPLATE,
    WORKFLOW_TEMPLATE_STEP,
    WORKFLOW_TEMPLATE_VERSION,
)
from domains.workflow.template import (
    ApprovalDelegation,
    WorkflowDecision,
    WorkflowTemplate,
    WorkflowTemplateStep,
    WorkflowTemplateVersion,
)

SPEC_OF: dict[type[Any], EntitySpec[Any]] = {
    Workflow: WORKFLOW,
    WorkflowStep: WORKFLOW_STEP,
    WorkflowTemplate: WORKFLOW_TEMPLATE,
    WorkflowTemplateStep: WORKFLOW_TEMPLATE_STEP,
    WorkflowTemplateVersion: WORKFLOW_TEMPLATE_VERSION,
    WorkflowDecision: WORKFLOW_DECISION,
    ApprovalDelegation: APPROVAL_DELEGATION,
}
INBOX_ORDER = (Order("due_on"), Order("created_at"))
MAX_DELEGATIONS = 100


class KernelWorkflowStore:
    def __init__(self, store: EntityStore) -> None:
        self.store = store

    async def _one(self, spec: EntitySpec[Any], id: uuid.UUID, scope: Filter | None = None) -> Any:
        found = await self.store.get_many(spec, [id], scope)
        return found[0] if found else None

    async def _all(self, spec: EntitySpec[Any], filter: Filter, order: Sequence[Order] | None = None) -> list[Any]:
        page = await self.store.find(spec, filter, order or spec.default_order, PageRequest(), MAX_STEPS)
        return list(page.items)

    async def visible(self, actor: Principal, id: uuid.UUID) -> Workflow | None:
        found: Workflow | None = await self._one(WORKFLOW, id, read_scope(WORKFLOW, actor))
        return found

    async def get(self, id: uuid.UUID) -> Workflow | None:
        found: Workflow | None = await self._one(WORKFLOW, id)
        return found

    async def step(self, id: uuid.UUID) -> WorkflowStep | None:
        found: WorkflowStep | None = await self._one(WORKFLOW_STEP, id)
        return found

    async def step_waiting_for(self, document_id: uuid.UUID) -> WorkflowStep | None:
        page = await self.store.find(
            WORKFLOW_STEP, Condition("document_id", Op.EQ, document_id), WORKFLOW_STEP.default_order, PageRequest(), 1
        )
        return page.items[0] if page.items else None

    async def steps_of(self, workflow_id: uuid.UUID) -> list[WorkflowStep]:
        return await self._all(WORKFLOW_STEP, Condition("workflow_id", Op.EQ, workflow_id))

    async def template(self, actor: Principal, id: uuid.UUID) -> WorkflowTemplate | None:
        found: WorkflowTemplate | None = await self._one(WORKFLOW_TEMPLATE, id, read_scope(WORKFLOW_TEMPLATE, actor))
        return found

    async def template_by_code(self, company_id: uuid.UUID, code: str) -> WorkflowTemplate | None:
        found = await self._all(
            WORKFLOW_TEMPLATE, AllOf((Condition("company_id", Op.EQ, company_id), Condition("code", Op.EQ, code)))
        )
        return found[0] if found else None

    async def template_steps(self, template_id: uuid.UUID) -> list[WorkflowTemplateStep]:
        return await self._all(WORKFLOW_TEMPLATE_STEP, Condition("template_id", Op.EQ, template_id))

    async def version(self, template_id: uuid.UUID, number: int) -> WorkflowTemplateVersion | None:
        found = await self._all(
            WORKFLOW_TEMPLATE_VERSION,
            AllOf((Condition("template_id", Op.EQ, template_id), Condition("number", Op.EQ, number))),
        )
        return found[0] if found else None

    async def decisions(self, step_id: uuid.UUID) -> list[WorkflowDecision]:
        return await self._all(WORKFLOW_DECISION, Condition("step_id", Op.EQ, step_id))

    async def delegations_to(self, delegate_id: uuid.UUID, day: date) -> list[ApprovalDelegation]:
        filter = AllOf(
            (
                Condition("delegate_id", Op.EQ, delegate_id),
                Condition("starts_on", Op.LTE, day),
                Condition("ends_on", Op.GTE, day),
            )
        )
        page = await self.store.find(
            APPROVAL_DELEGATION, filter, APPROVAL_DELEGATION.default_order, PageRequest(), MAX_DELEGATIONS
        )
        return list(page.items)

    async def find_steps(self, filter: Filter, page: PageRequest, limit: int) -> Page[WorkflowStep]:
        return await self.store.find(WORKFLOW_STEP, filter, INBOX_ORDER, page, limit)

    async def count_steps(self, filter: Filter) -> int:
        return await self.store.count(WORKFLOW_STEP, filter)

    async def workflows(self, ids: Sequence[uuid.UUID]) -> list[Workflow]:
        return list(await self.store.get_many(WORKFLOW, list(ids), None)) if ids else []

    async def add(self, entity: Stored) -> None:
        await self.store.insert(SPEC_OF[type(entity)], entity)

    async def save(self, entity: Stored, expected_version: int) -> None:
        await self.store.save(SPEC_OF[type(entity)], entity, expected_version)
