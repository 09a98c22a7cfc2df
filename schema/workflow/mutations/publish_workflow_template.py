"""publishWorkflowTemplate(id, expectedVersion): checks the template's steps and freezes them
as its next version (a ValidationError naming each broken step otherwise)."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.context import Info
from schema.factory import EntitySchemaFactory, parse_id


def build(factory: EntitySchemaFactory) -> dict[str, Any]:
    types = factory.types["WorkflowTemplate"]

    async def publish_workflow_template(info: Info, id: strawberry.ID, expected_version: int) -> Any:
        context = info.context
        key = parse_id(id, "WorkflowTemplate", "id")
        template, _ = await context.commands.workflow.publish_template(context.viewer, key, expected_version)
        return types.payload(workflowTemplate=template)

    publish_workflow_template.__annotations__ = {
        "info": Info,
        "id": strawberry.ID,
        "expected_version": int,
        "return": types.result,
    }
    return {
        "publish_workflow_template": strawberry.mutation(
            resolver=publish_workflow_template,
            description="Publishes the template's steps as they are now as its next version; workflows started "
            "later follow it, those running keep theirs. Errors name the step (fields: steps.<key>.<field>).",
        )
    }
