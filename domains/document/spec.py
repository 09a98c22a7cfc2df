"""Document (its metadata), declared once. Uploads come with their own issue."""

from __future__ import annotations

import logging

from domains.document.model import AWAITING_REVIEW, Document, DocumentKind, DocumentStatus
from domains.kernel.entity import (
    Access,
    EntitySpec,
    Hook,
    HookEvent,
    NamedQuery,
    Reach,
    belongs_to,
    choice,
    day,
    not_blank,
    reference,
    string,
)
from domains.kernel.principal import Principal, Role
from domains.kernel.query import Condition, Op, Order


def guard_transition(event: HookEvent[Document]) -> None:
    assert event.previous is not None
    event.previous.ensure_can_become(event.entity.status, event.principal)


audit = logging.getLogger("hrgraph.audit")


def record_status_change(event: HookEvent[Document]) -> None:
    """After commit only: a rolled-back review must leave no trace in the audit trail."""
    if event.previous is not None and event.previous.status != event.entity.status:
        audit.info(
            "document status changed",
            extra={
                "document_id": str(event.entity.id),
                "from": event.previous.status.value,
                "to": event.entity.status.value,
                "by": str(event.principal.user_id),
            },
        )


def awaiting_review(_: Principal) -> Condition:
    return Condition("status", Op.IN, list(AWAITING_REVIEW))


DOCUMENT = EntitySpec(
    name="Document",
    plural="documents",
    model=Document,
    table="documents",
    description="A document a person must hand in: a contract, an ID, a tax form.",
    owner_field="owner_id",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("owner_id", "User", required=True),
        string("title", required=True, max_length=200, sortable=True, validators=(not_blank,)),
        choice("kind", DocumentKind, required=True, sortable=True),
        choice("status", DocumentStatus, required=True, on_create=False, sortable=True),
        day("due_on", sortable=True),
        string("note", max_length=2000),
    ),
    relations=(
        belongs_to("owner", "User", "owner_id"),
        belongs_to("company", "Company", "company_id"),
    ),
    access=Access(
        read={Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        create={Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        update={Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        delete={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
    ),
    hooks={Hook.BEFORE_UPDATE: [guard_transition], Hook.AFTER_COMMIT: [record_status_change]},
    queries=(
        NamedQuery(
            "documents_awaiting_review",
            awaiting_review,
            order=(Order("due_on"), Order("created_at")),
            description="Handed-in documents that wait for HR's review, soonest due first.",
        ),
    ),
)

__all__ = ["DOCUMENT", "DocumentKind", "DocumentStatus"]
