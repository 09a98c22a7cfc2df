"""Every entity the product declares. Adding an entity: declare it, list it here, migrate."""

from __future__ import annotations

from domains.company.spec import COMPANY
from domains.document.spec import DOCUMENT
from domains.kernel.entity import Registry
from domains.user.spec import USER
from domains.workflow.spec import WORKFLOW, WORKFLOW_STEP


def build_registry() -> Registry:
    return Registry([COMPANY, USER, DOCUMENT, WORKFLOW, WORKFLOW_STEP])
