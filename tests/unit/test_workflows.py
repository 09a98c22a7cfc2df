"""Workflows against in-memory fakes: the entities' state machines, the start and cancel
commands, and the reaction to document events (by their published shape only)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from domains.document.model import Document
from domains.document.spec import DOCUMENT
from domains.kernel.entity import from_snapshot, snapshot
from domains.kernel.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from domains.kernel.events import DomainEvent
from domains.workflow.events import WorkflowStarted, WorkflowStatusChanged, WorkflowStepStatusChanged
from domains.workflow.live import visible_change
from domains.workflow.model import StepStatus, Workflow, WorkflowKind, WorkflowStatus, WorkflowStep
from domains.workflow.service import DocumentReview, WorkflowCommands
from domains.workflow.spec import WORKFLOW, WORKFLOW_STEP
from domains.workflow.store import KernelWorkflowStore
from tests.unit.conftest import World
from tests.unit.fakes import FakeTransactions
from tests.unit.workflow_fakes import Documents, People, publish_built_ins

TODAY = date(2026, 11, 30)


WORKFLOW_STARTED = WorkflowStarted.published_name()
WORKFLOW_STATUS_CHANGED = WorkflowStatusChanged.published_name()
WORKFLOW_STEP_STATUS_CHANGED = WorkflowStepStatusChanged.published_name()
SUBMITTED, APPROVED, REJECTED = DocumentReview.SUBMITTED, DocumentReview.APPROVED, DocumentReview.REJECTED


class Recorder:
    """The events of the entities the commands saved, as the unit of work would publish them."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.published: list[DomainEvent] = []

    @property
    def events(self) -> list[DomainEvent]:
        self.published.extend(self.world.store.take_events())
        return self.published

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.events]


@pytest.fixture
def recorder(world: World) -> Recorder:
    return Recorder(world)


@pytest.fixture
async def service(world: World) -> WorkflowCommands:
    store = KernelWorkflowStore(world.store)
    commands = WorkflowCommands(store, People(world), Documents(world), FakeTransactions(), clock=lambda: TODAY)
    await publish_built_ins(world, commands)
    return commands


async def _started(world: World, service: WorkflowCommands) -> tuple[Workflow, list[WorkflowStep]]:
    workflow = await service.start_by_code(
        world.as_(world.hr), "EMPLOYEE_ONBOARDING", world.alice.id, TODAY + timedelta(days=30)
    )
    return workflow, await service.steps_of(workflow.id)


# ---- the entities -------------------------------------------------------------------------


def test_a_step_moves_pending_submitted_done_and_back_on_rejection() -> None:
    step = WorkflowStep(
        company_id=uuid.uuid4(), workflow_id=uuid.uuid4(), subject_id=uuid.uuid4(), document_id=uuid.uuid4(),
        document_kind="ID", title="ID", position=0,
    )  # fmt: skip
    with pytest.raises(InvalidTransition) as error:
        step.finish()
    assert (error.value.current, error.value.target) == ("PENDING", "DONE")
    assert step.submit() is StepStatus.PENDING
    assert step.reopen() is StepStatus.SUBMITTED
    step.submit()
    step.finish()
    assert step.status is StepStatus.DONE
    for move in (step.submit, step.reopen, step.finish):
        with pytest.raises(InvalidTransition):
            move()


def test_a_workflow_completes_only_when_every_step_is_done_and_never_after_cancel() -> None:
    workflow = Workflow(company_id=uuid.uuid4(), subject_id=uuid.uuid4(), kind=WorkflowKind.ONBOARDING, title="W")
    workflow.start()
    pending = WorkflowStep(
        company_id=workflow.company_id, workflow_id=workflow.id, subject_id=workflow.subject_id,
        document_id=uuid.uuid4(), document_kind="ID", title="ID", position=0,
    )  # fmt: skip
    with pytest.raises(InvalidTransition):
        workflow.complete([pending])
    with pytest.raises(Invalid):
        workflow.cancel("   ")
    assert workflow.status is WorkflowStatus.IN_PROGRESS
    assert workflow.cancel("left before starting") is WorkflowStatus.IN_PROGRESS
    with pytest.raises(InvalidTransition):
        workflow.cancel("again")
    with pytest.raises(InvalidTransition):
        workflow.complete([])


def test_overdue_comes_from_the_due_dates() -> None:
    workflow = Workflow(
        company_id=uuid.uuid4(), subject_id=uuid.uuid4(), kind=WorkflowKind.ONBOARDING, title="W",
        status=WorkflowStatus.IN_PROGRESS, due_on=TODAY - timedelta(days=1),
    )  # fmt: skip
    assert workflow.overdue(TODAY)
    assert not workflow.overdue(TODAY - timedelta(days=1))
    workflow.cancel("no longer needed")
    assert not workflow.overdue(TODAY)


def test_snapshots_round_trip() -> None:
    workflow = Workflow(
        company_id=uuid.uuid4(), subject_id=uuid.uuid4(), kind=WorkflowKind.OFFBOARDING, title="W", due_on=TODAY
    )
    assert from_snapshot(Workflow, snapshot(workflow)) == workflow


# ---- the commands -------------------------------------------------------------------------


async def test_start_creates_one_step_and_one_requested_document_per_required_document(
    world: World, service: WorkflowCommands, recorder: Recorder
) -> None:
    workflow, steps = await _started(world, service)
    assert workflow.status is WorkflowStatus.IN_PROGRESS
    assert [s.document_kind for s in steps] == ["ID", "CONTRACT", "TAX_FORM"]
    assert [s.due_on for s in steps] == [TODAY + timedelta(days=16), TODAY + timedelta(days=23), TODAY + timedelta(30)]
    documents: list[Document] = [world.store.stored(DOCUMENT, s.document_id) for s in steps]
    assert {(d.owner_id, d.status.value, d.kind.value) for d in documents} == {
        (world.alice.id, "REQUESTED", k) for k in ("ID", "CONTRACT", "TAX_FORM")
    }
    assert recorder.types == [WORKFLOW_STARTED]
    assert recorder.events[0].payload["previousStatus"] is None


@pytest.mark.parametrize(
    "who, subject, error",
    [
        ("alice", "alice", Forbidden),  # an employee may not start workflows
        ("globex_hr", "alice", Invalid),  # another company's person looks like nobody
        ("hr", "nobody", Invalid),
    ],
)
async def test_start_refuses_and_changes_nothing(
    world: World, service: WorkflowCommands, recorder: Recorder, who: str, subject: str, error: type[Exception]
) -> None:
    subject_id = uuid.uuid4() if subject == "nobody" else getattr(world, subject).id
    before = len(world.store.rows(DOCUMENT))
    with pytest.raises(error):
        await service.start_by_code(
            world.as_(getattr(world, who)), "OFFBOARDING", subject_id, TODAY + timedelta(days=5)
        )
    assert len(world.store.rows(DOCUMENT)) == before
    assert world.store.rows(WORKFLOW_STEP) == []
    assert recorder.events == []


async def test_start_refuses_a_due_date_in_the_past(world: World, service: WorkflowCommands) -> None:
    with pytest.raises(Invalid) as error:
        await service.start_by_code(world.as_(world.hr), "OFFBOARDING", world.bob.id, TODAY - timedelta(1))
    assert ("due_date",) in error.value.problems


async def test_cancel_with_a_reason_records_the_change(
    world: World, service: WorkflowCommands, recorder: Recorder
) -> None:
    workflow, _ = await _started(world, service)
    with pytest.raises(Forbidden):
        await service.cancel(world.as_(world.alice), workflow.id, "mine", workflow.version)
    with pytest.raises(NotFound):
        await service.cancel(world.as_(world.globex_hr), workflow.id, "not yours", workflow.version)
    with pytest.raises(Conflict) as stale:
        await service.cancel(world.as_(world.hr), workflow.id, "seen long ago", workflow.version - 1)
    assert stale.value.current_version == workflow.version
    assert world.store.stored(WORKFLOW, workflow.id).status is WorkflowStatus.IN_PROGRESS
    cancelled = await service.cancel(world.as_(world.hr), workflow.id, "hired elsewhere", workflow.version)
    assert cancelled.version == workflow.version + 1
    assert cancelled.status is WorkflowStatus.CANCELLED
    assert world.store.stored(WORKFLOW, workflow.id).cancel_reason == "hired elsewhere"
    assert recorder.types[-1] == WORKFLOW_STATUS_CHANGED
    assert recorder.events[-1].payload["previousStatus"] == "IN_PROGRESS"


# ---- the reaction to document events --------------------------------------------------------


async def test_document_events_move_steps_and_the_last_approval_completes_the_workflow(
    world: World, service: WorkflowCommands, recorder: Recorder
) -> None:
    workflow, steps = await _started(world, service)
    for step in steps:
        await service.on_document_reviewed(step.document_id, SUBMITTED, None)
    await service.on_document_reviewed(steps[0].document_id, REJECTED, None)
    assert world.store.stored(WORKFLOW_STEP, steps[0].id).status is StepStatus.PENDING
    await service.on_document_reviewed(steps[0].document_id, SUBMITTED, None)
    for step in steps:
        await service.on_document_reviewed(step.document_id, APPROVED, None)
    assert world.store.stored(WORKFLOW, workflow.id).status is WorkflowStatus.COMPLETED
    assert {s.status for s in await service.steps_of(workflow.id)} == {StepStatus.DONE}
    assert recorder.types[-2:] == [WORKFLOW_STEP_STATUS_CHANGED, WORKFLOW_STATUS_CHANGED]
    assert recorder.events[-1].payload["status"] == "COMPLETED"
    assert recorder.types.count(WORKFLOW_STEP_STATUS_CHANGED) == 3 + 1 + 1 + 3


async def test_an_approval_of_a_pending_step_is_an_invalid_transition(world: World, service: WorkflowCommands) -> None:
    _, steps = await _started(world, service)
    with pytest.raises(InvalidTransition):
        await service.on_document_reviewed(steps[0].document_id, APPROVED, None)


async def test_documents_no_step_waits_for_and_cancelled_workflows_are_left_alone(
    world: World, service: WorkflowCommands, recorder: Recorder
) -> None:
    workflow, steps = await _started(world, service)
    await service.on_document_reviewed(world.bob_doc.id, SUBMITTED, None)
    await service.cancel(world.as_(world.hr), workflow.id, "stopped", workflow.version)
    recorded = len(recorder.events)
    await service.on_document_reviewed(steps[0].document_id, SUBMITTED, None)
    assert len(recorder.events) == recorded
    assert world.store.stored(WORKFLOW_STEP, steps[0].id).status is StepStatus.PENDING


async def test_steps_of_a_deleted_workflow_are_left_alone(world: World, service: WorkflowCommands) -> None:
    workflow, steps = await _started(world, service)
    await world.workflows.delete(world.as_(world.hr), workflow.id, workflow.version)
    await service.on_document_reviewed(steps[0].document_id, SUBMITTED, None)
    assert world.store.stored(WORKFLOW_STEP, steps[0].id).status is StepStatus.PENDING


# ---- who sees which event --------------------------------------------------------------------


async def test_an_employee_sees_only_events_about_themselves(
    world: World, service: WorkflowCommands, recorder: Recorder
) -> None:
    await _started(world, service)
    (started,) = recorder.events

    class Stored:
        id = 1
        aggregate = started.aggregate
        payload = started.payload
        occurred_at = started.occurred_at

    assert visible_change(Stored(), world.as_(world.alice), None) is not None
    assert visible_change(Stored(), world.as_(world.hr), None) is not None
    assert visible_change(Stored(), world.as_(world.bob), None) is None
    assert visible_change(Stored(), world.as_(world.globex_hr), None) is None
    assert visible_change(Stored(), world.as_(world.hr), uuid.uuid4()) is None
