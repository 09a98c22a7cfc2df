"""The workflow context's commands: templates published and archived, workflows started and
cancelled, tasks completed, approvals decided; and the reaction to a document's review.

Each command owns its unit of work. When a step is done, the steps that depend on it open in
the same transaction, and the last one done completes the workflow there too.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

from domains.kernel.access import covers, require_reach
from domains.kernel.errors import Forbidden, Invalid, NotFound
from domains.kernel.principal import Principal, Role
from domains.kernel.query import AllOf, AnyOf, Condition, Filter, Not, Op, Page, PageLimits, PageRequest
from domains.kernel.unit_of_work import Transactional
from domains.kernel.versions import check_version
from domains.workflow import events
from domains.workflow.live import Delegator
from domains.workflow.model import (
    MAX_REASON_LENGTH,
    AssigneeGroup,
    StepKind,
    StepStatus,
    Workflow,
    WorkflowStatus,
    WorkflowStep,
    checked_text,
)
from domains.workflow.plan import Plan, RuleKind, named_users, parse_rule, plan_steps, ready, resolve
from domains.workflow.ports import DocumentRequests, People, WorkflowStore
from domains.workflow.spec import WORKFLOW, WORKFLOW_TEMPLATE
from domains.workflow.template import TemplateStatus, WorkflowDecision, WorkflowTemplate, WorkflowTemplateVersion


class DocumentReview(enum.Enum):
    """What happened to a document a step may wait for (told by the composition root, from
    the document context's events: this context never reads them itself)."""

    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


def today() -> date:
    return datetime.now(UTC).date()


class InboxScope(enum.Enum):
    MINE = "MINE"
    PERSON = "PERSON"
    COMPANY = "COMPANY"


@dataclass(frozen=True)
class InboxItem:
    """One thing that waits on someone: the step, its workflow, its subject's name, and on
    whose behalf the viewer would decide (a delegation)."""

    step: WorkflowStep
    workflow: Workflow
    subject_name: str
    on_behalf_of: uuid.UUID | None


@dataclass(frozen=True)
class Inbox:
    page: Page[InboxItem]
    total: int


@dataclass(frozen=True)
class Decider:
    """Who decides a level, and for whom (``on_behalf_of`` set when a delegate decides)."""

    user_id: uuid.UUID
    on_behalf_of: uuid.UUID | None


class WorkflowCommands:
    def __init__(
        self,
        workflows: WorkflowStore,
        people: People,
        documents: DocumentRequests,
        uow: Transactional,
        clock: Callable[[], date] = today,
        limits: PageLimits = PageLimits(),
    ) -> None:
        self.uow = uow
        self.workflows = workflows
        self.people = people
        self.documents = documents
        self.clock = clock
        self.limits = limits

    # ---- templates ---------------------------------------------------------------------

    async def _template_for(self, actor: Principal, template_id: uuid.UUID, action: str) -> WorkflowTemplate:
        template = await self.workflows.template(actor, template_id)
        if template is None:
            raise NotFound("WorkflowTemplate", template_id)
        reach = require_reach(actor, WORKFLOW_TEMPLATE.access.update, action, WORKFLOW_TEMPLATE)
        if not covers(WORKFLOW_TEMPLATE, actor, reach, template):
            raise NotFound("WorkflowTemplate", template_id)
        return template

    async def publish_template(
        self, actor: Principal, template_id: uuid.UUID, expected_version: int
    ) -> tuple[WorkflowTemplate, WorkflowTemplateVersion]:
        """Checks the steps as they are now and freezes them as the template's next version."""
        async with self.uow.transaction():
            template = await self._template_for(actor, template_id, "publish")
            check_version("WorkflowTemplate", template, expected_version)
            rows = await self.workflows.template_steps(template.id)
            members = await self.people.members(template.company_id, named_users(rows))
            steps = plan_steps(rows, self.documents.kinds(), members)
            version = WorkflowTemplateVersion(
                company_id=template.company_id,
                template_id=template.id,
                number=(template.published_version or 0) + 1,
                kind=template.kind,
                title=template.title,
                definition=Plan(template.kind, template.title, steps).definition(),
                published_by=actor.user_id,
            )
            await self.workflows.add(version)
            template.published(version)
            await self.workflows.save(template, expected_version)
            return template, version

    async def archive_template(
        self, actor: Principal, template_id: uuid.UUID, expected_version: int
    ) -> WorkflowTemplate:
        """No new workflow starts from it; those running keep their version."""
        async with self.uow.transaction():
            template = await self._template_for(actor, template_id, "archive")
            check_version("WorkflowTemplate", template, expected_version)
            template.archive()
            await self.workflows.save(template, expected_version)
            return template

    # ---- workflows ---------------------------------------------------------------------

    async def start(self, actor: Principal, template_id: uuid.UUID, subject_id: uuid.UUID, due_on: date) -> Workflow:
        async with self.uow.transaction():
            template = await self.workflows.template(actor, template_id)
            if template is None:
                raise Invalid.field("template_id", f"WorkflowTemplate {template_id} was not found")
            return await self._start(actor, template, subject_id, due_on)

    async def start_by_code(self, actor: Principal, code: str, subject_id: uuid.UUID, due_on: date) -> Workflow:
        """The deprecated way: the template of the subject's company with this code."""
        async with self.uow.transaction():
            company_id = await self.people.company_of(actor, subject_id)
            template = None if company_id is None else await self.workflows.template_by_code(company_id, code)
            if company_id is not None and template is None:
                raise Invalid.field("template", f"the company has no template {code}")
            if template is None:
                require_reach(actor, WORKFLOW.access.create, "start", WORKFLOW)
                raise Invalid.field("subject_user_id", f"User {subject_id} was not found")
            return await self._start(actor, template, subject_id, due_on)

    async def _start(
        self, actor: Principal, template: WorkflowTemplate, subject_id: uuid.UUID, due_on: date
    ) -> Workflow:
        reach = require_reach(actor, WORKFLOW.access.create, "start", WORKFLOW)
        started = self.clock()
        if due_on < started:
            raise Invalid.field("due_date", "must not be in the past")
        company_id = await self.people.company_of(actor, subject_id)
        if company_id is None:
            raise Invalid.field("subject_user_id", f"User {subject_id} was not found")
        if company_id != template.company_id:
            raise Invalid.field("template_id", f"WorkflowTemplate {template.id} was not found")
        if template.status is not TemplateStatus.PUBLISHED or template.published_version is None:
            raise Invalid.field(
                "template_id", f"template {template.title!r} is {template.status.value.lower()}, not published"
            )
        version = await self.workflows.version(template.id, template.published_version)
        assert version is not None, "a published template has its version"
        plan = Plan.from_definition(version.kind, version.title, version.definition)
        workflow = Workflow(
            company_id=company_id,
            subject_id=subject_id,
            kind=plan.kind,
            title=plan.title,
            due_on=due_on,
            started_on=started,
            template_version_id=version.id,
        )
        if not covers(WORKFLOW, actor, reach, workflow):
            raise Invalid.field("subject_user_id", f"User {subject_id} was not found")
        workflow.start()
        await self.workflows.add(workflow)
        steps: list[WorkflowStep] = []
        for position, planned in enumerate(plan.steps):
            step = WorkflowStep(
                company_id=company_id,
                workflow_id=workflow.id,
                subject_id=subject_id,
                document_kind=planned.document_kind,
                title=planned.title,
                position=position,
                kind=planned.kind,
                key=planned.key,
                status=StepStatus.WAITING,
                due_on=planned.due_on(started, due_on),
                depends_on=",".join(planned.depends_on),
                assignee_rule=planned.assignee.text() if planned.assignee else None,
                approvers=",".join(r.text() for r in planned.approvers),
                reject_to=planned.reject_to,
            )
            steps.append(step)
        opening = set(ready({s.key: s.dependencies for s in steps}, ()))
        for step in steps:
            if step.key in opening:  # opens with the workflow: its start tells it
                await self._prepare_open(workflow, step, actor)
            await self.workflows.add(step)
        opened = [s for s in steps if s.key in opening]
        workflow.record_event(events.workflow_changed(workflow, None, actor.user_id, opened=opened))
        return workflow

    async def cancel(self, actor: Principal, workflow_id: uuid.UUID, reason: str, expected_version: int) -> Workflow:
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
            workflow.record_event(events.workflow_changed(workflow, previous, actor.user_id, workflow.cancel_reason))
            return workflow

    # ---- steps -------------------------------------------------------------------------

    async def _prepare_open(self, workflow: Workflow, step: WorkflowStep, actor: Principal | None) -> None:
        """Resolves who the step waits on now (and asks for its document) and opens it."""
        if step.kind is StepKind.DOCUMENT:
            assert step.document_kind is not None
            step.document_id = await self.documents.request(
                actor,
                company_id=workflow.company_id,
                owner_id=workflow.subject_id,
                kind=step.document_kind,
                title=step.title,
                due_on=step.due_on or self.clock(),
            )
            step.open(workflow.subject_id, None)
            return
        rule_text = step.assignee_rule if step.kind is StepKind.TASK else step.chain[0]
        assert rule_text, "publishing checked the step's rule"
        who = await resolve(parse_rule(rule_text), workflow.subject_id, self.people)
        if step.kind is StepKind.APPROVAL and who.user_id == workflow.subject_id:
            who = type(who)(group=AssigneeGroup.HR)  # nobody approves a step about herself
        step.open(who.user_id, who.group)

    async def _step_for(self, actor: Principal, step_id: uuid.UUID) -> tuple[WorkflowStep, Workflow]:
        step = await self.workflows.step(step_id)
        if step is None or (step.company_id != actor.company_id and not actor.is_admin):
            raise NotFound("WorkflowStep", step_id)
        workflow = await self.workflows.get(step.workflow_id)
        if workflow is None:
            raise NotFound("WorkflowStep", step_id)
        return step, workflow

    async def complete_task(
        self, actor: Principal, step_id: uuid.UUID, note: str, expected_version: int
    ) -> WorkflowStep:
        async with self.uow.transaction():
            step, workflow = await self._step_for(actor, step_id)
            check_version("WorkflowStep", step, expected_version)
            waits_on_actor = step.waits_on(actor.user_id, Role.HR in actor.roles) or actor.is_admin
            if not waits_on_actor and step.kind is StepKind.TASK and step.is_open:
                raise Forbidden("this task waits on someone else")
            self._in_progress(workflow)
            previous = step.complete_task(actor.user_id, note)
            await self.workflows.save(step, expected_version)
            await self._advance(workflow, step, actor.user_id, events.step_changed, previous)
            return step

    @staticmethod
    def _in_progress(workflow: Workflow) -> None:
        if workflow.status is not WorkflowStatus.IN_PROGRESS:
            raise Invalid.field("step_id", f"its workflow is {workflow.status.value.lower().replace('_', ' ')}")

    async def _decider(self, actor: Principal, step: WorkflowStep) -> Decider:
        """The actor, deciding for herself or as a delegate; Forbidden when neither."""
        if step.subject_id == actor.user_id:
            raise Forbidden("nobody approves a step about herself")
        if step.waits_on(actor.user_id, Role.HR in actor.roles):
            return Decider(actor.user_id, None)
        delegations = await self.workflows.delegations_to(actor.user_id, self.clock())
        delegators = [d.delegator_id for d in delegations if d.company_id == step.company_id]
        roles = await self.people.roles_of(delegators) if delegators else {}
        for delegator in delegators:
            if delegator != step.subject_id and step.waits_on(delegator, roles.get(delegator) is Role.HR):
                return Decider(actor.user_id, delegator)
        raise Forbidden("this approval waits on someone else")

    async def _decide(
        self, actor: Principal, step_id: uuid.UUID, expected_version: int, approved: bool, reason: str | None
    ) -> WorkflowStep:
        step, workflow = await self._step_for(actor, step_id)
        check_version("WorkflowStep", step, expected_version)
        if step.kind is not StepKind.APPROVAL:
            raise Invalid.field("step_id", f"this step is a {step.kind.value.lower()}, not an approval")
        self._in_progress(workflow)
        if not step.is_open:
            raise Invalid.field("step_id", f"this approval is {step.status.value.lower()}, not open")
        decider = await self._decider(actor, step)
        counted = {decider.user_id, decider.on_behalf_of} - {None}
        for earlier in await self.workflows.decisions(step.id):
            if earlier.round == step.round and counted & {earlier.decided_by, earlier.on_behalf_of}:
                raise Forbidden("nobody approves the same step twice in one chain")
        await self.workflows.add(
            WorkflowDecision(
                company_id=step.company_id,
                workflow_id=workflow.id,
                step_id=step.id,
                subject_id=step.subject_id,
                level=step.level,
                approved=approved,
                decided_by=decider.user_id,
                on_behalf_of=decider.on_behalf_of,
                reason=reason,
                round=step.round,
            )
        )
        before = step.assignee_id
        if approved and not step.last_level:
            who = await resolve(parse_rule(step.chain[step.level + 1]), step.subject_id, self.people)
            if who.user_id == step.subject_id:
                who = type(who)(group=AssigneeGroup.HR)
            step.next_level(who.user_id, who.group)
            await self.workflows.save(step, expected_version)
            await self.workflows.save(workflow, workflow.version)  # serialises the workflow's moves
            step.record_event(
                events.step_changed(
                    workflow,
                    step,
                    StepStatus.PENDING,
                    actor.user_id,
                    previous_assignee_id=before,
                    on_behalf_of=decider.on_behalf_of,
                )
            )
            return step
        if approved:
            previous = step.approve_last(actor.user_id)
            await self.workflows.save(step, expected_version)
            await self._advance(
                workflow,
                step,
                actor.user_id,
                partial(events.step_changed, previous_assignee_id=before, on_behalf_of=decider.on_behalf_of),
                previous,
            )
            return step
        assert reason is not None

        def rejected(previous: StepStatus) -> None:
            step.record_event(
                events.step_changed(
                    workflow,
                    step,
                    previous,
                    actor.user_id,
                    previous_assignee_id=before,
                    on_behalf_of=decider.on_behalf_of,
                    reason=reason,
                )
            )

        steps = await self.workflows.steps_of(workflow.id)
        target = next((s for s in steps if s.key == step.reject_to), None) if step.reject_to else None
        if target is None:
            previous = step.reject(reason)
            await self.workflows.save(step, expected_version)
            workflow_previous = workflow.reject(reason)
            await self.workflows.save(workflow, workflow.version)
            rejected(previous)
            workflow.record_event(events.workflow_changed(workflow, workflow_previous, actor.user_id, reason))
            return step
        previous = step.send_back(reason)
        await self.workflows.save(step, expected_version)
        target_previous = target.status
        await self._prepare_open(workflow, target, None)
        await self.workflows.save(target, target.version)
        await self.workflows.save(workflow, workflow.version)  # before the events: they carry it
        rejected(previous)
        target.record_event(events.step_changed(workflow, target, target_previous, actor.user_id, reason=reason))
        return step

    async def approve_step(self, actor: Principal, step_id: uuid.UUID, expected_version: int) -> WorkflowStep:
        async with self.uow.transaction():
            return await self._decide(actor, step_id, expected_version, True, None)

    async def reject_step(
        self, actor: Principal, step_id: uuid.UUID, reason: str, expected_version: int
    ) -> WorkflowStep:
        async with self.uow.transaction():
            reason = checked_text("reason", reason, MAX_REASON_LENGTH)
            return await self._decide(actor, step_id, expected_version, False, reason)

    async def _advance(
        self,
        workflow: Workflow,
        moved: WorkflowStep,
        actor_id: uuid.UUID | None,
        told: Callable[..., events.WorkflowEvent],
        previous: StepStatus,
    ) -> None:
        """After ``moved`` moved (``told`` makes its event): when it is done, open what now
        may and complete the workflow after its last step. The workflow is saved before any
        event is made, so that each carries the version it is now at."""
        opened: list[tuple[WorkflowStep, StepStatus]] = []
        workflow_previous = None
        if moved.status is StepStatus.DONE:
            steps = [moved if s.id == moved.id else s for s in await self.workflows.steps_of(workflow.id)]
            finished = [s.key for s in steps if s.status is StepStatus.DONE]
            opening = set(ready({s.key: s.dependencies for s in steps}, finished))
            for step in steps:
                if step.status is StepStatus.WAITING and step.key in opening:
                    opened.append((step, step.status))
                    await self._prepare_open(workflow, step, None)
                    await self.workflows.save(step, step.version)
            if all(s.status is StepStatus.DONE for s in steps):
                workflow_previous = workflow.complete(steps)
        # Saved even when its status stays: two moves of one workflow's steps then serialise
        # on its version, so the last one done always sees every other step.
        await self.workflows.save(workflow, workflow.version)
        moved.record_event(told(workflow, moved, previous, actor_id))
        for step, was in opened:
            step.record_event(events.step_changed(workflow, step, was, actor_id))
        if workflow_previous is not None:
            workflow.record_event(events.workflow_changed(workflow, workflow_previous, actor_id))

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
        await self._advance(workflow, step, actor_id, events.step_changed, previous)

    async def steps_of(self, workflow_id: uuid.UUID) -> list[WorkflowStep]:
        return await self.workflows.steps_of(workflow_id)

    # ---- the inbox ---------------------------------------------------------------------

    async def delegators_of(self, actor: Principal) -> list[Delegator]:
        """Who lets the actor decide for them today (read once when an inbox watch starts)."""
        delegations = await self.workflows.delegations_to(actor.user_id, self.clock())
        ids = [d.delegator_id for d in delegations if d.company_id == actor.company_id]
        roles = await self.people.roles_of(ids) if ids else {}
        return [Delegator(i, roles.get(i) is Role.HR) for i in ids]

    async def inbox(
        self,
        actor: Principal,
        scope: InboxScope,
        person_id: uuid.UUID | None,
        page: PageRequest,
        kinds: Sequence[StepKind] = (),
    ) -> Inbox:
        """What waits on the actor (or, for HR, on one person, or on anyone of the company)
        across workflows, by due date."""
        limit = page.first if page.first is not None else self.limits.default
        if limit < 0 or limit > self.limits.maximum:
            raise Invalid.field("first", f"must be between 0 and {self.limits.maximum}")
        if page.last is not None or page.before is not None:
            raise Invalid.field("last", "the inbox pages forward only (first, after)")
        hr = Role.HR in actor.roles or actor.is_admin
        if scope is not InboxScope.MINE and not hr:
            raise Forbidden("only HR sees what waits on others")
        company = Condition("company_id", Op.EQ, actor.company_id)
        open_ = Condition("status", Op.EQ, StepStatus.PENDING)
        parts: list[Filter] = [company, open_]
        if kinds:
            parts.append(Condition("kind", Op.IN, list(kinds)))
        behalf: dict[uuid.UUID, uuid.UUID] = {}
        hr_delegators: list[uuid.UUID] = []
        if scope is not InboxScope.COMPANY:
            whom = actor.user_id
            whom_hr = Role.HR in actor.roles
            if scope is InboxScope.PERSON:
                if person_id is None:
                    raise Invalid.field("person_id", "is required to see one person's inbox")
                if await self.people.company_of(actor, person_id) != actor.company_id:
                    raise Invalid.field("person_id", f"User {person_id} was not found")
                whom = person_id
                whom_hr = (await self.people.roles_of([person_id])).get(person_id) is Role.HR
            parts.append(await self._waiting_on(whom, whom_hr, behalf, hr_delegators))
        filter = AllOf(tuple(parts))
        found = await self.workflows.find_steps(filter, page, limit)
        total = await self.workflows.count_steps(filter)
        workflows = {w.id: w for w in await self.workflows.workflows(list({s.workflow_id for s in found.items}))}
        names = await self.people.names_of(list({s.subject_id for s in found.items})) if found.items else {}
        items = [
            InboxItem(
                step=s,
                workflow=workflows[s.workflow_id],
                subject_name=names.get(s.subject_id, ""),
                on_behalf_of=_on_behalf(s, actor, behalf, hr_delegators),
            )
            for s in found.items
        ]
        return Inbox(Page(items, found.cursors, found.has_next, found.has_previous), total)

    async def _waiting_on(
        self, user_id: uuid.UUID, is_hr: bool, behalf: dict[uuid.UUID, uuid.UUID], hr_delegators: list[uuid.UUID]
    ) -> Filter:
        """Steps that wait on this person herself or on someone who delegated to her now; an
        approval about herself never does."""
        delegations = await self.workflows.delegations_to(user_id, self.clock())
        people = [user_id, *(d.delegator_id for d in delegations)]
        roles = await self.people.roles_of([d.delegator_id for d in delegations]) if delegations else {}
        behalf.update({d.delegator_id: d.delegator_id for d in delegations})
        hr_delegators.extend(d for d, r in roles.items() if r is Role.HR)
        group = is_hr or any(r is Role.HR for r in roles.values())
        who: list[Filter] = [Condition("assignee_id", Op.IN, people)]
        if group:
            who.append(Condition("assignee_group", Op.EQ, AssigneeGroup.HR))
        about_me = AllOf((Condition("kind", Op.EQ, StepKind.APPROVAL), Condition("subject_id", Op.EQ, user_id)))
        return AllOf((AnyOf(tuple(who)), Not(about_me)))


def _on_behalf(
    step: WorkflowStep, actor: Principal, behalf: dict[uuid.UUID, uuid.UUID], hr_delegators: list[uuid.UUID]
) -> uuid.UUID | None:
    if step.assignee_id == actor.user_id:
        return None
    if step.assignee_id is not None:
        return behalf.get(step.assignee_id)
    if step.assignee_group is AssigneeGroup.HR and Role.HR not in actor.roles and hr_delegators:
        return hr_delegators[0]
    return None


__all__ = ["DocumentReview", "Inbox", "InboxItem", "InboxScope", "RuleKind", "WorkflowCommands"]
