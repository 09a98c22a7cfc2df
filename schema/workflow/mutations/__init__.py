"""The workflow context's commands as mutations, one a file, each a ``build(factory)`` giving
its root field by Python name."""

from __future__ import annotations

from typing import Any

from schema.factory import EntitySchemaFactory
from schema.workflow.mutations import (
    approve_step,
    archive_workflow_template,
    cancel_workflow,
    complete_task,
    publish_workflow_template,
    reject_step,
    start_workflow,
)

MUTATIONS = (
    start_workflow,
    cancel_workflow,
    publish_workflow_template,
    archive_workflow_template,
    complete_task,
    approve_step,
    reject_step,
)


def workflow_mutations(factory: EntitySchemaFactory) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for module in MUTATIONS:
        fields.update(module.build(factory))
    return fields
