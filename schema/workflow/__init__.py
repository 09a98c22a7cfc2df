"""GraphQL for workflows: the commands (one a file in ``mutations/``: startWorkflow,
cancelWorkflow, publishWorkflowTemplate, archiveWorkflowTemplate, completeTask, approveStep,
rejectStep), the fields added to the generated Workflow and WorkflowStep types (``overdue``),
the inbox (``inbox.py``: myTasks, myTasksChanged) and the live subscription."""

from __future__ import annotations

import datetime
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from domains.kernel.errors import NotFound
from domains.workflow.live import WorkflowChangeKind, watch
from domains.workflow.model import StepKind, StepStatus, WorkflowStatus
from domains.workflow.service import today
from schema.context import Info
from schema.domain import DomainSchema
from schema.factory import EntitySchemaFactory, parse_id
from schema.workflow.inbox import build_queries, build_subscriptions, event_id
from schema.workflow.mutations import workflow_mutations


def _overdue(root: Any) -> bool:
    """Computed from the due dates, never stored."""
    return bool(root.overdue(today()))


def _overdue_field() -> Any:
    return strawberry.field(resolver=_overdue, description="Past its due date and not yet done (from the due dates).")


def workflow_subscriptions(factory: EntitySchemaFactory) -> dict[str, Any]:
    workflow_types = factory.types["Workflow"]
    step_types = factory.types["WorkflowStep"]
    workflow_status = factory.graphql_enum(WorkflowStatus)
    step_status = factory.graphql_enum(StepStatus)
    event_type = type(
        "WorkflowStatusEvent",
        (),
        {
            "__annotations__": {
                "event_id": strawberry.ID,
                "kind": factory.graphql_enum(WorkflowChangeKind),
                "workflow": workflow_types.object,
                "workflow_status": workflow_status,
                "previous_workflow_status": workflow_status | None,
                "step": step_types.object | None,
                "previous_step_status": step_status | None,
                "step_kind": factory.graphql_enum(StepKind) | None,
                "step_status": step_status | None,
                "previous_status": str | None,
                "status": str,
                "occurred_at": datetime.datetime,
            },
            "kind": strawberry.field(description="What changed: the workflow started, its status, or a step's."),
            "workflow": strawberry.field(
                description="The workflow: its own fields as the change left them, what it links to as it is now."
            ),
            "workflow_status": strawberry.field(description="The workflow's status after the change."),
            "previous_workflow_status": strawberry.field(
                description="The workflow's status before a WORKFLOW_STATUS_CHANGED; null for the other kinds."
            ),
            "step": strawberry.field(
                description="The step that changed, for a STEP_STATUS_CHANGED (its own fields as the change "
                "left them: ``status`` is the new one); null for the other kinds."
            ),
            "previous_step_status": strawberry.field(
                description="The step's status before a STEP_STATUS_CHANGED; null for the other kinds."
            ),
            "step_kind": strawberry.field(description="The kind of the step that changed (null: the workflow's)."),
            "step_status": strawberry.field(description="The step's status after the change (null: the workflow's)."),
            "previous_status": strawberry.field(
                deprecation_reason="Mixes workflow and step statuses: use previousWorkflowStatus or "
                "previousStepStatus (with kind). Removed in the next release."
            ),
            "status": strawberry.field(
                deprecation_reason="Mixes workflow and step statuses: use workflowStatus or step { status } "
                "(with kind). Removed in the next release."
            ),
        },
    )
    event_type = strawberry.type(
        event_type,
        description="A workflow started, or it or one of its steps changed status (``kind`` tells which).",
    )

    async def workflow_status_changed(
        info: Info, workflow_id: strawberry.ID | None = None, after_event_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Any, None]:
        context = info.context
        viewer = context.viewer
        key = None
        if workflow_id is not None:
            key = parse_id(workflow_id, "Workflow", "workflowId")
            if await context.service("Workflow").get(viewer, key) is None:
                raise NotFound("Workflow", workflow_id)
        changes = watch(context.feed, viewer, key, event_id(after_event_id))
        async for change in changes:
            context.reset()  # fresh loaders: what the event's fields read is as of now
            event = event_type(
                event_id=strawberry.ID(str(change.event_id)),
                workflow=change.workflow,
                kind=change.kind,
                workflow_status=change.workflow_status,
                previous_workflow_status=change.previous_workflow_status,
                step=change.step,
                previous_step_status=change.previous_step_status,
                step_kind=change.step.kind if change.step is not None else None,
                step_status=change.step.status if change.step is not None else None,
                previous_status=change.previous_status,
                status=change.status,
                occurred_at=change.occurred_at,
            )
            event.shared_key = ("workflowStatusChanged", change.event_id)  # see schema/shared_events.py
            yield event

    workflow_status_changed.__annotations__["return"] = AsyncGenerator[event_type, None]  # type: ignore[valid-type]

    subscriptions = {
        "workflow_status_changed": strawberry.subscription(
            resolver=workflow_status_changed,
            description="Workflows moving: without workflowId every workflow you may see; with afterEventId "
            "the events after it are replayed first, then live ones, in order, once each.",
        ),
        **build_subscriptions(factory),
    }
    return subscriptions


WORKFLOW_SCHEMA = DomainSchema(
    name="workflow",
    type_fields={"Workflow": {"overdue": _overdue_field()}, "WorkflowStep": {"overdue": _overdue_field()}},
    queries=build_queries,
    mutations=workflow_mutations,
    subscriptions=workflow_subscriptions,
)

__all__ = ["WORKFLOW_SCHEMA"]
