"""Every entity the product declares, and every context's commands.

Adding an entity: declare it, list it here, migrate. Adding a context with commands: give it
an attribute of ``Commands`` (the composition root builds it for each operation).
"""

from __future__ import annotations

from dataclasses import dataclass

from domains.company.spec import COMPANY
from domains.document.service import DocumentCommands
from domains.document.spec import DOCUMENT
from domains.jobs.service import JobCommands
from domains.kernel.entity import Registry
from domains.privacy.service import PrivacyCommands
from domains.privacy.spec import ERASURE_REQUEST
from domains.user.spec import USER
from domains.webhook.service import WebhookCommands
from domains.workflow.service import WorkflowCommands
from domains.workflow.spec import WORKFLOW, WORKFLOW_STEP


def build_registry() -> Registry:
    return Registry([COMPANY, USER, DOCUMENT, WORKFLOW, WORKFLOW_STEP, ERASURE_REQUEST])


@dataclass(frozen=True)
class Commands:
    """One operation's commands, a context each, all on the operation's unit of work: what
    GraphQL calls (``Context.commands``) and what the bus's handlers are given."""

    document: DocumentCommands
    workflow: WorkflowCommands
    webhook: WebhookCommands
    jobs: JobCommands
    privacy: PrivacyCommands
