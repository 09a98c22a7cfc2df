"""startWorkflow(input): a workflow from a published template, for one person, due when."""

from __future__ import annotations

import datetime
import enum
from typing import Any

import strawberry

from domains.kernel.errors import Invalid
from schema.context import Info
from schema.factory import EntitySchemaFactory, parse_id


@strawberry.enum(description="The built-in templates, by the code the demo data gives them (deprecated).")
class WorkflowTemplateCode(enum.Enum):
    EMPLOYEE_ONBOARDING = "EMPLOYEE_ONBOARDING"
    OFFBOARDING = "OFFBOARDING"


@strawberry.input(description="Which template, for whom, due when: pass templateId (or the deprecated template).")
class StartWorkflowInput:
    subject_user_id: strawberry.ID
    due_date: datetime.date
    template: WorkflowTemplateCode | None = strawberry.field(
        default=None,
        deprecation_reason="Templates are the company's data now: pass templateId (a WorkflowTemplate's id). "
        "This finds the company's template whose code is this value.",
    )
    template_id: strawberry.ID | None = strawberry.field(
        default=None, description="The published WorkflowTemplate to start from (its latest version)."
    )


def build(factory: EntitySchemaFactory) -> dict[str, Any]:
    workflow_types = factory.types["Workflow"]
    payload = workflow_types.payload

    async def start_workflow(info: Info, input: StartWorkflowInput) -> Any:
        context = info.context
        subject = parse_id(input.subject_user_id, "User", "subjectUserId")
        commands = context.commands.workflow
        if (input.template is None) == (input.template_id is None):
            raise Invalid.field("templateId", "pass either templateId or template")
        if input.template_id is not None:
            template_id = parse_id(input.template_id, "WorkflowTemplate", "templateId")
            workflow = await commands.start(context.viewer, template_id, subject, input.due_date)
        else:
            assert input.template is not None
            workflow = await commands.start_by_code(context.viewer, input.template.value, subject, input.due_date)
        return payload(workflow=workflow)

    start_workflow.__annotations__ = {"info": Info, "input": StartWorkflowInput, "return": workflow_types.result}
    return {
        "start_workflow": strawberry.mutation(
            resolver=start_workflow,
            description="Starts a workflow from a published template's latest version, which it keeps: the steps "
            "without dependencies open at once (HR of the person's company, or ADMIN).",
        )
    }
