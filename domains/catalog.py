"""Every entity the product declares, and every context's commands.

Adding an entity: declare it, list it here, migrate. Adding a context with commands: give it
an attribute of ``Commands``; when its commands need only the kernel's ports, name how to
build them in ``BUILT_FROM_KERNEL`` and the composition root builds them for each operation
(docs/ARCHITECTURE.md, "Adding a context").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domains.audit.service import AuditTrail
from domains.company.spec import COMPANY
from domains.document.service import DocumentCommands
from domains.document.spec import DOCUMENT
from domains.jobs.service import JobCommands
from domains.kernel.entity import Registry
from domains.kernel.operation import KernelPorts
from domains.notification.follow_ups import FollowUpCommands
from domains.notification.inbox import NotificationCommands
from domains.privacy.exports import ExportCommands
from domains.privacy.retention import RetentionCommands
from domains.privacy.service import PrivacyCommands
from domains.privacy.spec import ERASURE_REQUEST, PERSON_DATA_EXPORT
from domains.user.spec import USER
from domains.webhook.service import WebhookCommands
from domains.workflow.service import WorkflowCommands
from domains.workflow.spec import SPECS as WORKFLOW_SPECS


def build_registry() -> Registry:
    return Registry([COMPANY, USER, DOCUMENT, *WORKFLOW_SPECS, ERASURE_REQUEST, PERSON_DATA_EXPORT])


@dataclass(frozen=True)
class Commands:
    """One operation's commands, a context each, all on the operation's unit of work: what
    GraphQL calls (``Context.commands``) and what the bus's handlers are given."""

    document: DocumentCommands
    workflow: WorkflowCommands
    webhook: WebhookCommands
    jobs: JobCommands
    notification: NotificationCommands
    follow_up: FollowUpCommands
    audit: AuditTrail
    privacy: PrivacyCommands
    export: ExportCommands
    retention: RetentionCommands


BUILT_FROM_KERNEL: Mapping[str, Callable[[KernelPorts], Any]] = {}
"""The ``Commands`` attributes built from the kernel's ports alone, and how: for each operation
the composition root calls each with that operation's ``KernelPorts``."""
