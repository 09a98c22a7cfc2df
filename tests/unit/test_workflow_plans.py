"""The step graph, the assignee rules and approval chains against in-memory fakes: what
publishing refuses (naming the step), which steps open when, who a rule names, and who may
decide an approval (nobody about herself, nobody twice in one chain, a delegate on behalf)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from domains.kernel.errors import Forbidden, Invalid
from domains.kernel.ids import to_global_id
from domains.kernel.query import PageRequest
from domains.workflow.live import Delegator, change_of, inbox_changes
from domains.workflow.model import AssigneeGroup, StepKind, StepStatus, WorkflowStatus
from domains.workflow.plan import (
    Assignee,
    DueFrom,
    InvalidTemplate,
    ProblemKind,
    Rule,
    RuleKind,
    StepPlan,
    in_cycles,
    parse_rule,
    plan_steps,
    ready,
    resolve,
)
from domains.workflow.service import InboxScope, WorkflowCommands
from domains.workflow.spec import APPROVAL_DELEGATION, WORKFLOW_DECISION, WORKFLOW_STEP
from domains.workflow.store import KernelWorkflowStore
from domains.workflow.template import ApprovalDelegation
from tests.unit.conftest import World
from tests.unit.fakes import FakeTransactions
from tests.unit.workflow_fakes import Documents, People, publish

TODAY = date(2026, 11, 30)
KINDS = frozenset({"ID", "CONTRACT"})


@dataclass
class Row:
    key: str
    kind: StepKind
    title: str = "A step"
    document_kind: str | None = None
    assignee: str | None = None
    approvers: str | None = None
    depends_on: str | None = None
    reject_to: str | None = None
    due_from: DueFrom = DueFrom.DUE
    due_offset_days: int = 0


def problems_of(rows: list[Row], people: frozenset[uuid.UUID] = frozenset()) -> set[tuple[str, ProblemKind, str]]:
    with pytest.raises(InvalidTemplate) as error:
        plan_steps(rows, KINDS, people)
    assert isinstance(error.value, Invalid)  # answered as a ValidationError, nothing changed
    return {(p.step, p.kind, p.field) for p in error.value.found}


# ---- the graph ------------------------------------------------------------------------------


def test_steps_without_dependencies_are_ready_first_then_those_whose_dependencies_are_done() -> None:
    graph = {"a": (), "b": ("a",), "c": ("a", "b"), "d": ()}
    assert ready(graph, ()) == ["a", "d"]
    assert ready(graph, ["a"]) == ["b", "d"]
    assert ready(graph, ["a", "b", "d"]) == ["c"]
    assert ready(graph, ["a", "b", "c", "d"]) == []


def test_cycles_are_found_with_every_step_on_them() -> None:
    def plan(key: str, *deps: str) -> StepPlan:
        return StepPlan(key=key, title=key, kind=StepKind.TASK, depends_on=deps)

    assert in_cycles([plan("a"), plan("b", "a"), plan("c", "b")]) == []
    assert in_cycles([plan("a", "c"), plan("b", "a"), plan("c", "b"), plan("d", "a")]) == ["a", "b", "c"]


def test_publishing_names_every_broken_step() -> None:
    someone = uuid.uuid4()
    rows = [
        Row("id", StepKind.DOCUMENT, document_kind="PASSPORT"),
        Row("laptop", StepKind.TASK, assignee="NOBODY"),
        Row("phone", StepKind.TASK),
        Row("desk", StepKind.TASK, assignee=f"USER:{someone}"),
        Row("ok", StepKind.APPROVAL, approvers="SUBJECT,MANAGER,MANAGER", depends_on="laptop"),
        Row("loop-a", StepKind.TASK, assignee="HR", depends_on="loop-b"),
        Row("loop-b", StepKind.TASK, assignee="HR", depends_on="loop-a,ghost"),
        Row("far", StepKind.TASK, assignee="HR", due_offset_days=400),
        Row("back", StepKind.APPROVAL, approvers="HR", reject_to="far"),
        Row("id", StepKind.TASK, assignee="HR"),
    ]
    assert problems_of(rows) == {
        ("id", ProblemKind.UNKNOWN_DOCUMENT_KIND, "documentKind"),
        ("id", ProblemKind.DUPLICATE_STEP, "key"),
        ("laptop", ProblemKind.UNRESOLVABLE_ASSIGNEE, "assignee"),
        ("phone", ProblemKind.UNRESOLVABLE_ASSIGNEE, "assignee"),
        ("desk", ProblemKind.UNRESOLVABLE_ASSIGNEE, "assignee"),  # not of this company
        ("ok", ProblemKind.UNRESOLVABLE_ASSIGNEE, "approvers"),  # herself, and the manager twice
        ("loop-a", ProblemKind.DEPENDENCY_CYCLE, "dependsOn"),
        ("loop-b", ProblemKind.DEPENDENCY_CYCLE, "dependsOn"),
        ("loop-b", ProblemKind.MISSING_STEP, "dependsOn"),
        ("far", ProblemKind.DUE_OFFSET_OUT_OF_RANGE, "dueOffsetDays"),
        ("back", ProblemKind.MISSING_STEP, "rejectTo"),  # not a step it depends on
    }
    assert problems_of([]) == {("", ProblemKind.NO_STEPS, "steps")}


def test_a_valid_template_becomes_its_plan_with_rules_and_due_dates() -> None:
    it = uuid.uuid4()
    steps = plan_steps(
        [
            Row("contract", StepKind.DOCUMENT, document_kind="CONTRACT", due_offset_days=-7),
            Row("laptop", StepKind.TASK, assignee=f"USER:{to_global_id('User', it)}", due_from=DueFrom.START,
                due_offset_days=3),
            Row("ok", StepKind.APPROVAL, approvers="MANAGER, HR", depends_on="laptop", reject_to="laptop"),
        ],
        KINDS,
        {it},
    )  # fmt: skip
    contract, laptop, ok = steps
    assert laptop.assignee == Rule(RuleKind.USER, it)
    assert ok.approvers == (Rule(RuleKind.MANAGER), Rule(RuleKind.HR))
    assert (ok.depends_on, ok.reject_to) == (("laptop",), "laptop")
    assert contract.due_on(TODAY, TODAY + timedelta(days=30)) == TODAY + timedelta(days=23)
    assert laptop.due_on(TODAY, TODAY + timedelta(days=30)) == TODAY + timedelta(days=3)
    assert contract.due_on(TODAY, TODAY + timedelta(days=2)) == TODAY  # never before the start
    assert [StepPlan.from_json(s.to_json()) for s in steps] == list(steps)


# ---- the rules ------------------------------------------------------------------------------


class Directory:
    def __init__(self, managers: dict[uuid.UUID, uuid.UUID]) -> None:
        self.managers = managers

    async def manager_of(self, user_id: uuid.UUID) -> uuid.UUID | None:
        return self.managers.get(user_id)


async def test_rules_resolve_when_the_step_opens() -> None:
    subject, manager, named = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    directory = Directory({subject: manager})
    assert await resolve(parse_rule("SUBJECT"), subject, directory) == Assignee(user_id=subject)
    assert await resolve(parse_rule("manager"), subject, directory) == Assignee(user_id=manager)
    assert await resolve(parse_rule("HR"), subject, directory) == Assignee(group=AssigneeGroup.HR)
    assert await resolve(parse_rule(f"USER:{named}"), subject, directory) == Assignee(user_id=named)
    # a subject without a manager: the company's HR decides instead of nobody
    assert await resolve(parse_rule("MANAGER"), uuid.uuid4(), directory) == Assignee(group=AssigneeGroup.HR)
    for wrong in ("BOSS", "USER:", "USER:not-an-id", "HR:someone"):
        with pytest.raises(ValueError):
            parse_rule(wrong)


# ---- approval chains against the fake store -----------------------------------------------


@pytest.fixture
def commands(world: World) -> WorkflowCommands:
    store = KernelWorkflowStore(world.store)
    return WorkflowCommands(store, People(world), Documents(world), FakeTransactions(), clock=lambda: TODAY)


async def _approval(
    world: World, commands: WorkflowCommands, reject_to: str | None = None, code: str = "CHAIN"
) -> list:
    """Alice (whose manager is HR in this world) gets a task for Bob, then an approval by her
    manager and by the admin, after the task."""
    await publish(
        world,
        commands,
        world.hr,
        "Chain",
        [
            {"key": "task", "kind": StepKind.TASK, "assignee": f"USER:{world.bob.id}"},
            {"key": "ok", "kind": StepKind.APPROVAL, "approvers": f"MANAGER,USER:{world.admin.id}",
             "depends_on": "task", "reject_to": reject_to},
        ],
        code=code,
    )  # fmt: skip
    workflow = await commands.start_by_code(world.as_(world.hr), code, world.alice.id, TODAY + timedelta(9))
    return [workflow, *await commands.steps_of(workflow.id)]


async def test_an_approval_opens_after_its_dependency_and_each_level_decides_in_order(
    world: World, commands: WorkflowCommands
) -> None:
    workflow, task, ok = await _approval(world, commands)
    assert (task.status, ok.status) == (StepStatus.PENDING, StepStatus.WAITING)
    with pytest.raises(Invalid):
        await commands.approve_step(world.as_(world.hr), ok.id, ok.version)
    with pytest.raises(Forbidden):
        await commands.complete_task(world.as_(world.alice), task.id, "", task.version)
    await commands.complete_task(world.as_(world.bob), task.id, "done", task.version)
    ok = world.store.stored(WORKFLOW_STEP, ok.id)
    assert (ok.status, ok.assignee_id, ok.level) == (StepStatus.PENDING, world.hr.id, 0)
    with pytest.raises(Forbidden):  # the subject never decides a step about herself
        await commands.approve_step(world.as_(world.alice), ok.id, ok.version)
    with pytest.raises(Forbidden):  # the admin's level is next, not now
        await commands.approve_step(world.as_(world.admin), ok.id, ok.version)
    ok = await commands.approve_step(world.as_(world.hr), ok.id, ok.version)
    assert (ok.status, ok.assignee_id, ok.level) == (StepStatus.PENDING, world.admin.id, 1)
    ok = await commands.approve_step(world.as_(world.admin), ok.id, ok.version)
    assert ok.status is StepStatus.DONE
    assert world.store.stored(world.workflows.spec, workflow.id).status is WorkflowStatus.COMPLETED


async def test_nobody_decides_twice_in_one_chain_not_even_through_a_delegation(
    world: World, commands: WorkflowCommands
) -> None:
    _, task, ok = await _approval(world, commands)
    await commands.complete_task(world.as_(world.bob), task.id, "", task.version)
    # the admin lets HR decide for her: HR, who decided the first level, may not decide the second
    world.store.add(
        APPROVAL_DELEGATION,
        ApprovalDelegation(
            company_id=world.acme.id, delegator_id=world.admin.id, delegate_id=world.hr.id,
            starts_on=TODAY, ends_on=TODAY,
        ),
    )  # fmt: skip
    ok = world.store.stored(WORKFLOW_STEP, ok.id)
    ok = await commands.approve_step(world.as_(world.hr), ok.id, ok.version)
    with pytest.raises(Forbidden):
        await commands.approve_step(world.as_(world.hr), ok.id, ok.version)
    assert world.store.stored(WORKFLOW_STEP, ok.id).level == 1


async def test_a_delegate_decides_on_behalf_within_the_date_range_only(
    world: World, commands: WorkflowCommands
) -> None:
    _, task, ok = await _approval(world, commands)
    await commands.complete_task(world.as_(world.bob), task.id, "", task.version)
    ok = world.store.stored(WORKFLOW_STEP, ok.id)
    world.store.add(
        APPROVAL_DELEGATION,
        ApprovalDelegation(
            company_id=world.acme.id, delegator_id=world.hr.id, delegate_id=world.bob.id,
            starts_on=TODAY + timedelta(days=1), ends_on=TODAY + timedelta(days=5),
        ),
    )  # fmt: skip
    with pytest.raises(Forbidden):  # not yet
        await commands.approve_step(world.as_(world.bob), ok.id, ok.version)
    assert (await commands.inbox(world.as_(world.bob), InboxScope.MINE, None, PageRequest())).total == 0
    world.store.add(
        APPROVAL_DELEGATION,
        ApprovalDelegation(
            company_id=world.acme.id, delegator_id=world.hr.id, delegate_id=world.bob.id, starts_on=TODAY,
            ends_on=TODAY,
        ),
    )  # fmt: skip
    inbox = await commands.inbox(world.as_(world.bob), InboxScope.MINE, None, PageRequest())
    assert [(i.step.id, i.on_behalf_of) for i in inbox.page.items] == [(ok.id, world.hr.id)]
    await commands.approve_step(world.as_(world.bob), ok.id, ok.version)
    (decision,) = world.store.rows(WORKFLOW_DECISION)
    assert (decision.decided_by, decision.on_behalf_of, decision.approved) == (world.bob.id, world.hr.id, True)


async def test_a_rejection_sends_back_to_the_named_step_or_ends_the_workflow(
    world: World, commands: WorkflowCommands
) -> None:
    workflow, task, ok = await _approval(world, commands, reject_to="task")
    await commands.complete_task(world.as_(world.bob), task.id, "", task.version)
    ok = world.store.stored(WORKFLOW_STEP, ok.id)
    with pytest.raises(Invalid):
        await commands.reject_step(world.as_(world.hr), ok.id, "  ", ok.version)
    ok = await commands.reject_step(world.as_(world.hr), ok.id, "wrong laptop", ok.version)
    task = world.store.stored(WORKFLOW_STEP, task.id)
    assert (ok.status, task.status, task.assignee_id) == (StepStatus.WAITING, StepStatus.PENDING, world.bob.id)
    await commands.complete_task(world.as_(world.bob), task.id, "another one", task.version)
    ok = world.store.stored(WORKFLOW_STEP, ok.id)
    assert (ok.status, ok.level, ok.round) == (StepStatus.PENDING, 0, 2)
    await commands.approve_step(world.as_(world.hr), ok.id, ok.version)  # a new round: HR decides again

    other_workflow, other_task, other_ok = await _approval(world, commands, code="ENDS")
    await commands.complete_task(world.as_(world.bob), other_task.id, "", other_task.version)
    other_ok = world.store.stored(WORKFLOW_STEP, other_ok.id)
    rejected = await commands.reject_step(world.as_(world.hr), other_ok.id, "no", other_ok.version)
    assert rejected.status is StepStatus.REJECTED
    assert world.store.stored(world.workflows.spec, other_workflow.id).status is WorkflowStatus.REJECTED
    assert workflow.id != other_workflow.id


async def test_the_inbox_of_others_is_for_hr_only(world: World, commands: WorkflowCommands) -> None:
    await _approval(world, commands)
    with pytest.raises(Forbidden):
        await commands.inbox(world.as_(world.alice), InboxScope.COMPANY, None, PageRequest())
    bobs = await commands.inbox(world.as_(world.hr), InboxScope.PERSON, world.bob.id, PageRequest())
    assert [i.step.kind for i in bobs.page.items] == [StepKind.TASK]
    assert bobs.page.items[0].subject_name == world.alice.full_name
    with pytest.raises(Invalid):
        await commands.inbox(world.as_(world.globex_hr), InboxScope.PERSON, world.bob.id, PageRequest())


async def test_the_inbox_watch_learns_of_steps_that_open_with_the_workflow_and_of_levels_moving_on(
    world: World, commands: WorkflowCommands
) -> None:
    world.store.take_events()
    _, task, ok = await _approval(world, commands)

    @dataclass
    class Stored:
        id: int
        aggregate: str
        payload: dict
        occurred_at: object

    def changes_for(user: object, delegators: tuple = ()) -> list[tuple[StepKind, StepStatus, bool]]:
        found = []
        for n, event in enumerate(events):
            stored = Stored(n, event.aggregate, event.payload, event.occurred_at)
            for c in inbox_changes(change_of(stored), world.as_(user), delegators):
                found.append((c.step.kind, c.step.status, c.waits_on_viewer))
        return found

    events = world.store.take_events()
    assert changes_for(world.bob) == [(StepKind.TASK, StepStatus.PENDING, True)]  # in WorkflowStarted
    assert changes_for(world.alice) == []
    await commands.complete_task(world.as_(world.bob), task.id, "", task.version)
    ok = world.store.stored(WORKFLOW_STEP, ok.id)
    await commands.approve_step(world.as_(world.hr), ok.id, ok.version)
    events = world.store.take_events()
    assert changes_for(world.bob) == [(StepKind.TASK, StepStatus.DONE, False)]
    # HR (Alice's manager here): the approval arrives, then moves on to the admin
    assert changes_for(world.hr) == [
        (StepKind.APPROVAL, StepStatus.PENDING, True),
        (StepKind.APPROVAL, StepStatus.PENDING, False),
    ]
    assert changes_for(world.admin) == [(StepKind.APPROVAL, StepStatus.PENDING, True)]
    assert changes_for(world.bob, (Delegator(world.admin.id, False),)) == [
        (StepKind.TASK, StepStatus.DONE, False),
        (StepKind.APPROVAL, StepStatus.PENDING, True),
    ]
    assert changes_for(world.globex_hr) == []
