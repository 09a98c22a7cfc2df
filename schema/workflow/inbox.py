"""myTasks: what waits on the viewer across workflows (documents to hand in, tasks to do,
approvals to decide), by due date; for HR also one person's or the whole company's. And
myTasksChanged, which tells the frontend when the inbox changed."""

from __future__ import annotations

import datetime
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from domains.kernel.errors import Invalid
from domains.kernel.ids import to_global_id
from domains.kernel.query import PageRequest
from domains.workflow.live import watch_inbox
from domains.workflow.model import StepKind, StepStatus
from domains.workflow.service import InboxItem, InboxScope, today
from schema.connection import PageInfo
from schema.context import Info
from schema.factory import EntitySchemaFactory, parse_id


def event_id(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise Invalid.field("after_event_id", "is not an event id") from None


def build_queries(factory: EntitySchemaFactory) -> dict[str, Any]:
    step_kind = factory.graphql_enum(StepKind)
    step_status = factory.graphql_enum(StepStatus)

    task_type = strawberry.type(
        type(
            "InboxTask",
            (),
            {
                "__annotations__": {
                    "id": strawberry.ID,
                    "step_id": strawberry.ID,
                    "version": int,
                    "kind": step_kind,
                    "status": step_status,
                    "title": str,
                    "due_on": datetime.date | None,
                    "overdue": bool,
                    "level": int,
                    "workflow_id": strawberry.ID,
                    "workflow_title": str,
                    "subject_id": strawberry.ID,
                    "subject_name": str,
                    "document_id": strawberry.ID | None,
                    "assignee_id": strawberry.ID | None,
                    "on_behalf_of_id": strawberry.ID | None,
                },
                "id": strawberry.field(description="The step's id (a WorkflowStep id)."),
                "step_id": strawberry.field(description="The step's id, as completeTask/approveStep take it."),
                "version": strawberry.field(description="The step's version, the expectedVersion of its commands."),
                "level": strawberry.field(description="For an approval, the level of its chain deciding now (from 0)."),
                "document_id": strawberry.field(description="For a document, the one to hand in."),
                "assignee_id": strawberry.field(description="Who it waits on (null: the company's HR)."),
                "on_behalf_of_id": strawberry.field(
                    description="Set when it reaches you through a delegation: who you would decide for."
                ),
            },
        ),
        description="One thing that waits on someone: a document to hand in, a task to do, an approval to decide.",
    )
    edge_type = strawberry.type(
        type("InboxTaskEdge", (), {"__annotations__": {"cursor": str, "node": task_type}}),
        description="An inbox task and its cursor.",
    )
    connection_type = strawberry.type(
        type(
            "InboxTaskConnection",
            (),
            {"__annotations__": {"edges": list[edge_type], "page_info": PageInfo, "total_count": int}},  # type: ignore[valid-type]
        ),
        description="A page of the inbox, by due date, with the count of all.",
    )
    filter_type = strawberry.input(
        type(
            "MyTasksFilter",
            (),
            {
                "__annotations__": {
                    "kinds": list[step_kind] | None,  # type: ignore[valid-type]
                    "person_id": strawberry.ID | None,
                    "company": bool,
                },
                "kinds": strawberry.field(default=None, description="Only these kinds of step."),
                "person_id": strawberry.field(default=None, description="HR: what waits on this person."),
                "company": strawberry.field(default=False, description="HR: everything open in the company."),
            },
        ),
        description="Whose inbox (yours unless HR asks for a person's or the company's), and which kinds.",
    )

    def node(item: InboxItem) -> Any:
        step = item.step
        return task_type(
            id=strawberry.ID(to_global_id("WorkflowStep", step.id)),
            step_id=strawberry.ID(to_global_id("WorkflowStep", step.id)),
            version=step.version,
            kind=step.kind,
            status=step.status,
            title=step.title,
            due_on=step.due_on,
            overdue=step.overdue(today()),
            level=step.level,
            workflow_id=strawberry.ID(to_global_id("Workflow", item.workflow.id)),
            workflow_title=item.workflow.title,
            subject_id=strawberry.ID(to_global_id("User", step.subject_id)),
            subject_name=item.subject_name,
            document_id=strawberry.ID(to_global_id("Document", step.document_id)) if step.document_id else None,
            assignee_id=strawberry.ID(to_global_id("User", step.assignee_id)) if step.assignee_id else None,
            on_behalf_of_id=strawberry.ID(to_global_id("User", item.on_behalf_of)) if item.on_behalf_of else None,
        )

    async def my_tasks(info: Info, first: int | None = None, after: str | None = None, filter: Any = None) -> Any:
        context = info.context
        scope, person = InboxScope.MINE, None
        kinds: list[StepKind] = []
        if filter is not None:
            kinds = [StepKind(k.value) for k in filter.kinds or ()]
            if filter.person_id is not None:
                scope, person = InboxScope.PERSON, parse_id(filter.person_id, "User", "filter.personId")
            elif filter.company:
                scope = InboxScope.COMPANY
        inbox = await context.commands.workflow.inbox(
            context.viewer, scope, person, PageRequest(first=first, after=after), kinds
        )
        page = inbox.page
        return connection_type(
            edges=[edge_type(cursor=c, node=node(i)) for c, i in zip(page.cursors, page.items, strict=True)],
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            total_count=inbox.total,
        )

    my_tasks.__annotations__ = {
        "info": Info,
        "first": int | None,
        "after": str | None,
        "filter": filter_type | None,
        "return": connection_type,
    }
    return {
        "my_tasks": strawberry.field(
            resolver=my_tasks,
            description="What waits on you across workflows (documents to hand in, tasks, approvals, also those "
            "delegated to you), by due date; HR may ask for one person's or the company's (filter).",
        )
    }


def build_subscriptions(factory: EntitySchemaFactory) -> dict[str, Any]:
    step_kind = factory.graphql_enum(StepKind)
    step_status = factory.graphql_enum(StepStatus)
    change_type = strawberry.type(
        type(
            "InboxChange",
            (),
            {
                "__annotations__": {
                    "event_id": strawberry.ID,
                    "step_id": strawberry.ID,
                    "workflow_id": strawberry.ID,
                    "kind": step_kind,
                    "status": step_status,
                    "level": int,
                    "waits_on_you": bool,
                    "occurred_at": datetime.datetime,
                }
            },
        ),
        description="A step that is or was in your inbox moved: read myTasks again (waitsOnYou: it is there now).",
    )

    async def my_tasks_changed(info: Info, after_event_id: strawberry.ID | None = None) -> AsyncGenerator[Any, None]:
        context = info.context
        viewer = context.viewer
        delegators = await context.commands.workflow.delegators_of(viewer)
        async for change in watch_inbox(context.feed, viewer, delegators, event_id(after_event_id)):
            step = change.step
            yield change_type(
                event_id=strawberry.ID(str(change.event_id)),
                step_id=strawberry.ID(to_global_id("WorkflowStep", step.id)),
                workflow_id=strawberry.ID(to_global_id("Workflow", step.workflow_id)),
                kind=step.kind,
                status=step.status,
                level=step.level,
                waits_on_you=change.waits_on_viewer,
                occurred_at=change.occurred_at,
            )

    my_tasks_changed.__annotations__["return"] = AsyncGenerator[change_type, None]  # type: ignore[valid-type]
    return {
        "my_tasks_changed": strawberry.subscription(
            resolver=my_tasks_changed,
            description="Your inbox changed: a step that waits (or waited) on you, or on someone who delegated to "
            "you, moved. With afterEventId the events after it are replayed first.",
        )
    }
