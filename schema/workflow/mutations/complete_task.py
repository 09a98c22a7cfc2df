"""completeTask(stepId, note, expectedVersion): the assignee says the task is done."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.context import Info
from schema.factory import EntitySchemaFactory, parse_id


def build(factory: EntitySchemaFactory) -> dict[str, Any]:
    types = factory.types["WorkflowStep"]

    async def complete_task(info: Info, step_id: strawberry.ID, note: str, expected_version: int) -> Any:
        context = info.context
        key = parse_id(step_id, "WorkflowStep", "stepId")
        step = await context.commands.workflow.complete_task(context.viewer, key, note, expected_version)
        return types.payload(workflowStep=step)

    complete_task.__annotations__ = {
        "info": Info,
        "step_id": strawberry.ID,
        "note": str,
        "expected_version": int,
        "return": types.result,
    }
    return {
        "complete_task": strawberry.mutation(
            resolver=complete_task,
            description="Marks an open task done, with a note (its assignee, or HR for a task of HR); the steps "
            "that depend on it open, and the last step completes the workflow.",
        )
    }
