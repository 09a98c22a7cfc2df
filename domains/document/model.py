from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date

from domains.kernel.entity import Entity
from domains.kernel.errors import Forbidden, InvalidTransition
from domains.kernel.principal import Principal, Role


class DocumentKind(enum.Enum):
    CONTRACT = "CONTRACT"
    ID = "ID"
    TAX_FORM = "TAX_FORM"
    CERTIFICATE = "CERTIFICATE"
    OTHER = "OTHER"


class DocumentStatus(enum.Enum):
    REQUESTED = "REQUESTED"
    UPLOADED = "UPLOADED"
    IN_REVIEW = "IN_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


# Which status may follow which, and who may make the move.
TRANSITIONS: dict[DocumentStatus, set[DocumentStatus]] = {
    DocumentStatus.REQUESTED: {DocumentStatus.UPLOADED},
    DocumentStatus.UPLOADED: {DocumentStatus.IN_REVIEW, DocumentStatus.REQUESTED},
    DocumentStatus.IN_REVIEW: {DocumentStatus.APPROVED, DocumentStatus.REJECTED},
    DocumentStatus.REJECTED: {DocumentStatus.UPLOADED},
    DocumentStatus.APPROVED: set(),
}
REVIEW_STEPS = {DocumentStatus.IN_REVIEW, DocumentStatus.APPROVED, DocumentStatus.REJECTED}
AWAITING_REVIEW = (DocumentStatus.UPLOADED, DocumentStatus.IN_REVIEW)


@dataclass(kw_only=True)
class Document(Entity):
    """A document a person must hand in, and where it stands in its review."""

    company_id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    kind: DocumentKind
    status: DocumentStatus = DocumentStatus.REQUESTED
    due_on: date | None = None
    note: str | None = None

    def can_become(self, target: DocumentStatus) -> bool:
        return target == self.status or target in TRANSITIONS[self.status]

    def ensure_can_become(self, target: DocumentStatus, by: Principal) -> None:
        if not self.can_become(target):
            raise InvalidTransition("Document", self.status.value, target.value)
        if target != self.status and target in REVIEW_STEPS and not ({Role.HR, Role.ADMIN} & by.roles):
            raise Forbidden("only HR may review a document")
