"""What the workflow commands need from outside, in memory: people, documents, and templates
published into the fake store as HR would through the generic CRUD."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from domains.document.model import DocumentKind
from domains.kernel.principal import Principal, Role
from domains.workflow.model import StepKind, WorkflowKind
from domains.workflow.plan import DueFrom
from domains.workflow.service import WorkflowCommands
from domains.workflow.spec import WORKFLOW_TEMPLATE, WORKFLOW_TEMPLATE_STEP
from domains.workflow.template import WorkflowTemplate, WorkflowTemplateStep
from tests.unit.conftest import World

BUILT_IN = {
    "EMPLOYEE_ONBOARDING": (
        "Employee onboarding",
        WorkflowKind.ONBOARDING,
        (("id", "Identity document", "ID", 14), ("contract", "Signed employment contract", "CONTRACT", 7),
         ("tax-form", "Tax form", "TAX_FORM", 0)),
    ),
    "OFFBOARDING": (
        "Offboarding",
        WorkflowKind.OFFBOARDING,
        (("equipment", "Equipment return form", "OTHER", 3), ("final-tax", "Final tax statement", "TAX_FORM", 0)),
    ),
}  # fmt: skip


class People:
    def __init__(self, world: World) -> None:
        self.world = world

    def _user(self, user_id: uuid.UUID) -> Any:
        return next((u for u in self.world.store.rows(self.world.users.spec) if u.id == user_id), None)

    async def company_of(self, principal: Principal, user_id: uuid.UUID) -> uuid.UUID | None:
        user = await self.world.users.get(principal, user_id)
        return None if user is None else user.company_id

    async def manager_of(self, user_id: uuid.UUID) -> uuid.UUID | None:
        user = self._user(user_id)
        return None if user is None else user.manager_id

    async def roles_of(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Role]:
        return {u.id: u.role for u in map(self._user, user_ids) if u is not None}

    async def members(self, company_id: uuid.UUID, user_ids: Sequence[uuid.UUID]) -> frozenset[uuid.UUID]:
        return frozenset(u.id for u in map(self._user, user_ids) if u is not None and u.company_id == company_id)

    async def names_of(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        return {u.id: u.full_name for u in map(self._user, user_ids) if u is not None}


class Documents:
    def __init__(self, world: World) -> None:
        self.world = world

    async def request(self, principal: Principal | None, **data: Any) -> uuid.UUID:
        actor = principal or self.world.as_(self.world.admin)
        document = await self.world.documents.create(actor, {**data, "kind": DocumentKind(data["kind"])})
        return document.id

    def kinds(self) -> frozenset[str]:
        return frozenset(k.value for k in DocumentKind)


def template_step(template: WorkflowTemplate, position: int, key: str, kind: StepKind, **fields: Any) -> Any:
    return WorkflowTemplateStep(
        company_id=template.company_id,
        template_id=template.id,
        key=key,
        title=fields.pop("title", key.title()),
        kind=kind,
        position=position,
        **fields,
    )


async def publish(
    world: World,
    commands: WorkflowCommands,
    hr: Any,
    title: str,
    steps: Sequence[dict[str, Any]],
    code: str | None = None,
) -> WorkflowTemplate:
    """A template of ``hr``'s company with these steps (``key``, ``kind`` and fields), published."""
    template = WorkflowTemplate(company_id=hr.company_id, code=code, title=title, kind=WorkflowKind.ONBOARDING)
    world.store.add(WORKFLOW_TEMPLATE, template)
    for position, fields in enumerate(steps):
        fields = dict(fields)
        world.store.add(
            WORKFLOW_TEMPLATE_STEP, template_step(template, position, fields.pop("key"), fields.pop("kind"), **fields)
        )
    published, _ = await commands.publish_template(world.as_(hr), template.id, template.version)
    return published


async def publish_built_ins(world: World, commands: WorkflowCommands) -> None:
    for hr in (world.hr, world.globex_hr):
        for code, (title, _, steps) in BUILT_IN.items():
            await publish(
                world,
                commands,
                hr,
                title,
                [
                    {"key": key, "kind": StepKind.DOCUMENT, "title": t, "document_kind": kind,
                     "due_from": DueFrom.DUE, "due_offset_days": -days}
                    for key, t, kind, days in steps
                ],
                code=code,
            )  # fmt: skip
