"""approveStep(stepId, expectedVersion): the approver deciding now (or her delegate) approves."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.context import Info
from schema.factory import EntitySchemaFactory, parse_id


def build(factory: EntitySchemaFactory) -> dict[str, Any]:
    types = factory.types["WorkflowStep"]

    async def approve_step(info: Info, step_id: strawberry.ID, expected_version: int) -> Any:
        context = info.context
        key = parse_id(step_id, "WorkflowStep", "stepId")
        step = await context.commands.workflow.approve_step(context.viewer, key, expected_version)
        return types.payload(workflowStep=step)

    approve_step.__annotations__ = {
        "info": Info,
        "step_id": strawberry.ID,
        "expected_version": int,
        "return": types.result,
    }
    return {
        "approve_step": strawberry.mutation(
            resolver=approve_step,
            description="Approves an approval step at its current level: the chain's next approver decides next, "
            "or the step is done. A delegate's decision is recorded on behalf of the approver.",
        )
    }
