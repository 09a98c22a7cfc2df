"""Document (its metadata), declared once. Its status and files move only through the commands
in ``domains/document/service.py``; the generic update keeps the fields that stay editable."""

from __future__ import annotations

from datetime import date

from domains.document.model import AWAITING_REVIEW, EXPIRES_FROM, Document, DocumentKind, DocumentStatus
from domains.kernel.entity import (
    Access,
    EntitySpec,
    NamedQuery,
    Reach,
    belongs_to,
    choice,
    day,
    integer,
    not_blank,
    reference,
    string,
    timestamp,
)
from domains.kernel.principal import Principal, Role
from domains.kernel.query import AllOf, Condition, Filter, Op, Order

HR_ONLY = frozenset({Role.HR, Role.ADMIN})
BY_COMMAND = {"on_create": False, "on_update": False}
PENDING = "Of the upload a ticket was issued for; null once confirmed."


def awaiting_review(_: Principal) -> Condition:
    return Condition("status", Op.IN, list(AWAITING_REVIEW))


def expiring_before(day: date) -> Filter:
    """Documents with an expiry date before ``day`` that have not expired yet (documentsExpiringBefore)."""
    return AllOf((Condition("expires_on", Op.LT, day), Condition("status", Op.IN, list(EXPIRES_FROM))))


DOCUMENT = EntitySpec(
    name="Document",
    plural="documents",
    model=Document,
    table="documents",
    description="A document a person must hand in: a contract, an ID, a tax form.",
    owner_field="owner_id",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("owner_id", "User", required=True, updatable_by=HR_ONLY),
        string("title", required=True, max_length=200, sortable=True, validators=(not_blank,)),
        choice("kind", DocumentKind, required=True, sortable=True, updatable_by=HR_ONLY),
        choice(
            "status",
            DocumentStatus,
            required=True,
            sortable=True,
            description="Where the document stands; it moves only through the document commands.",
            **BY_COMMAND,
        ),
        day("due_on", sortable=True, updatable_by=HR_ONLY),
        string("note", max_length=2000),
        integer(
            "file_version",
            required=True,
            filterable=False,
            description="The latest uploaded file's version; 0 before the first upload.",
            **BY_COMMAND,
        ),
        # The file an upload ticket was issued for, until it is confirmed.
        string("pending_file_name", max_length=255, filterable=False, description=PENDING, **BY_COMMAND),
        string("pending_content_type", max_length=100, filterable=False, description=PENDING, **BY_COMMAND),
        integer("pending_size_bytes", filterable=False, description=PENDING, **BY_COMMAND),
        timestamp("pending_expires_at", filterable=False, description=PENDING, **BY_COMMAND),
        string(
            "rejection_reason",
            max_length=2000,
            filterable=False,
            description="Why HR rejected the latest file; null once a new file is confirmed.",
            **BY_COMMAND,
        ),
        day(
            "expires_on",
            sortable=True,
            updatable_by=HR_ONLY,
            description="When it expires (set by HR, or accepted from its analysis); "
            "on that day it becomes EXPIRED and a renewal is requested.",
        ),
        reference(
            "renews_id",
            "Document",
            description="The expired document this one renews.",
            **BY_COMMAND,
        ),
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
