"""rejectStep(stepId, reason, expectedVersion): sends the workflow back, or ends it REJECTED."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.context import Info
from schema.factory import EntitySchemaFactory, parse_id


def build(factory: EntitySchemaFactory) -> dict[str, Any]:
    types = factory.types["WorkflowStep"]

    async def reject_step(info: Info, step_id: strawberry.ID, reason: str, expected_version: int) -> Any:
        context = info.context
        key = parse_id(step_id, "WorkflowStep", "stepId")
        step = await context.commands.workflow.reject_step(context.viewer, key, reason, expected_version)
        return types.payload(workflowStep=step)

    reject_step.__annotations__ = {
        "info": Info,
        "step_id": strawberry.ID,
        "reason": str,
        "expected_version": int,
        "return": types.result,
    }
    return {
        "reject_step": strawberry.mutation(
            resolver=reject_step,
            description="Rejects an approval step with a reason: the step the template names opens again (the "
            "approval waits for it), or the workflow ends REJECTED.",
        )
    }
