"""cancelWorkflow(id, reason, expectedVersion)."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.context import Info
from schema.factory import EntitySchemaFactory, parse_id


def build(factory: EntitySchemaFactory) -> dict[str, Any]:
    workflow_types = factory.types["Workflow"]
    payload = workflow_types.payload

    async def cancel_workflow(info: Info, id: strawberry.ID, reason: str, expected_version: int) -> Any:
        context = info.context
        key = parse_id(id, "Workflow", "id")
        workflow = await context.commands.workflow.cancel(context.viewer, key, reason, expected_version)
        return payload(workflow=workflow)

    cancel_workflow.__annotations__ = {
        "info": Info,
        "id": strawberry.ID,
        "reason": str,
        "expected_version": int,
        "return": workflow_types.result,
    }
    return {
        "cancel_workflow": strawberry.mutation(
            resolver=cancel_workflow, description="Cancels a workflow in progress, with a reason."
        )
    }
