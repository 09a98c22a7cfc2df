"""archiveWorkflowTemplate(id, expectedVersion): no workflow starts from it any more."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.context import Info
from schema.factory import EntitySchemaFactory, parse_id


def build(factory: EntitySchemaFactory) -> dict[str, Any]:
    types = factory.types["WorkflowTemplate"]

    async def archive_workflow_template(info: Info, id: strawberry.ID, expected_version: int) -> Any:
        context = info.context
        key = parse_id(id, "WorkflowTemplate", "id")
        template = await context.commands.workflow.archive_template(context.viewer, key, expected_version)
        return types.payload(workflowTemplate=template)

    archive_workflow_template.__annotations__ = {
        "info": Info,
        "id": strawberry.ID,
        "expected_version": int,
        "return": types.result,
    }
    return {
        "archive_workflow_template": strawberry.mutation(
            resolver=archive_workflow_template,
            description="Archives a template: no new workflow starts from it; running ones keep their version.",
        )
    }
