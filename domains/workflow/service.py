"""Workflow commands: start, cancel, and the reaction to a document's review.

Each reads like the rule: authorize, load through the ports, ask the entity, persist, record
what happened on the entity. A command runs in a transaction of the operation's unit of work,
which commits it with the saved entities' events; a reaction runs inside the transaction of
the change it reacts to.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from domains.kernel.access import covers, require_reach
from domains.kernel.errors import Invalid, NotFound
from domains.kernel.principal import Principal
from domains.kernel.unit_of_work import Transactional
from domains.kernel.versions import check_version
from domains.workflow import events
from domains.workflow.model import StepStatus, Workflow, WorkflowStatus, WorkflowStep
from domains.workflow.ports import DocumentRequests, People, WorkflowStore
from domains.workflow.spec import WORKFLOW
from domains.workflow.templates import TEMPLATES, WorkflowTemplate


class DocumentReview(enum.Enum):
    """What happened to a document a step may wait for (told by the composition root, from
    the document context's events: this context never reads them itself)."""

    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


def today() -> date:
    return datetime.now(UTC).date()


class WorkflowCommands:
    def __init__(
        self,
        workflows: WorkflowStore,
        people: People,
        documents: DocumentRequests,
        uow: Transactional,
        clock: Callable[[], date] = today,
    ) -> None:
        self.uow = uow
        self.workflows = workflows
        self.people = people
        self.documents = documents
        self.clock = clock

    # ---- commands ----------------------------------------------------------------------

    async def start(
        self, actor: Principal, template: WorkflowTemplate, subject_id: uuid.UUID, due_on: date
    ) -> Workflow:
        async with self.uow.transaction():
            reach = require_reach(actor, WORKFLOW.access.create, "start", WORKFLOW)
            started = self.clock()
            if due_on < started:
                raise Invalid.field("due_date", "must not be in the past")
            company_id = await self.people.company_of(actor, subject_id)
            if company_id is None:
                raise Invalid.field("subject_user_id", f"User {subject_id} was not found")
            plan = TEMPLATES[template]
            workflow = Workflow(
                company_id=company_id, subject_id=subject_id, kind=plan.kind, title=plan.title, due_on=due_on
            )
            if not covers(WORKFLOW, actor, reach, workflow):
                raise Invalid.field("subject_user_id", f"User {subject_id} was not found")
            workflow.start()
            await self.workflows.add(workflow)
            for position, required in enumerate(plan.documents):
                step_due = required.due_on(started, due_on)
                document_id = await self.documents.request(
                    actor,
                    company_id=company_id,
                    owner_id=subject_id,
                    kind=required.kind,
                    title=required.title,
                    due_on=step_due,
                )
                step = WorkflowStep(
                    company_id=company_id,
                    workflow_id=workflow.id,
                    subject_id=subject_id,
                    document_id=document_id,
                    document_kind=required.kind,
                    title=required.title,
                    position=position,
                    due_on=step_due,
                )
                await self.workflows.add(step)
            workflow.record_event(events.workflow_changed(workflow, None, actor.user_id))
            return workflow

    async def cancel(
        self, actor: Principal, workflow_id: uuid.UUID, reason: str, expected_version: int
    ) -> Workflow:
        async with self.uow.transaction():
            workflow = await self.workflows.visible(actor, workflow_id)
            if workflow is None:
                raise NotFound("Workflow", workflow_id)
            reach = require_reach(actor, WORKFLOW.access.update, "cancel", WORKFLOW)
            if not covers(WORKFLOW, actor, reach, workflow):
                raise NotFound("Workflow", workflow_id)
            check_version("Workflow", workflow, expected_version)
            previous = workflow.cancel(reason)
            await self.workflows.save(workflow, expected_version)
            workflow.record_event(
                events.workflow_changed(workflow, previous, actor.user_id, workflow.cancel_reason)
            )
            return workflow

    # ---- reactions ---------------------------------------------------------------------

    async def on_document_reviewed(
        self, document_id: uuid.UUID, review: DocumentReview, actor_id: uuid.UUID | None
    ) -> None:
        """Moves the step waiting for the document; the last approval completes the workflow.

        Runs in the transaction of the document's review: if the step cannot move, the review
        does not happen either. Documents no step waits for, and steps of a workflow that is
        no longer in progress (or deleted), are left alone."""
        step = await self.workflows.step_waiting_for(document_id)
        if step is None:
            return
        workflow = await self.workflows.get(step.workflow_id)
        if workflow is None or workflow.status is not WorkflowStatus.IN_PROGRESS:
            return  # deleted, cancelled or completed: its steps stay as they are
        target, move = {
            DocumentReview.SUBMITTED: (StepStatus.SUBMITTED, step.submit),
            DocumentReview.APPROVED: (StepStatus.DONE, step.finish),
            DocumentReview.REJECTED: (StepStatus.PENDING, step.reopen),
        }[review]
        if step.status is target:
            return
        previous = move()
        await self.workflows.save(step, step.version)
        steps = [step if s.id == step.id else s for s in await self.steps_of(workflow.id)]
        workflow_previous = None
        if all(s.status is StepStatus.DONE for s in steps):
            workflow_previous = workflow.complete(steps)
        # Saved even when its status stays: two reviews of one workflow's documents then
        # serialise on its version, so the last approval always sees every other step.
        await self.workflows.save(workflow, workflow.version)
        step.record_event(events.step_changed(workflow, step, previous, actor_id))
        if workflow_previous is not None:
            workflow.record_event(events.workflow_changed(workflow, workflow_previous, actor_id))

    async def steps_of(self, workflow_id: uuid.UUID) -> list[WorkflowStep]:
        return await self.workflows.steps_of(workflow_id)
