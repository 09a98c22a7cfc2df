"""An erasure: HR asks, a second HR or an ADMIN confirms, then the person's data goes."""

from __future__ import annotations

import enum
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from domains.kernel.entity import Entity
from domains.kernel.errors import Forbidden, Invalid, InvalidTransition
from domains.kernel.principal import Principal, Role
from domains.privacy.events import ErasureRequested, PersonErased

MAX_REASON_LENGTH = 500


class ErasureStatus(enum.Enum):
    REQUESTED = "REQUESTED"
    DONE = "DONE"


class SameConfirmer(Forbidden):
    """Four eyes: whoever asked for an erasure may not confirm it."""

    code = "FOUR_EYES"


def may_erase(actor: Principal) -> bool:
    return bool(actor.roles & {Role.HR, Role.ADMIN})


def pseudonym_of(user_id: uuid.UUID) -> str:
    """Stable for one person, and says nothing about them: what stays in their place."""
    return "erased-" + hashlib.sha256(b"hrgraph-erasure:" + user_id.bytes).hexdigest()[:12]


@dataclass(kw_only=True)
class ErasureRequest(Entity):
    company_id: uuid.UUID
    subject_id: uuid.UUID
    reason: str
    requested_by: uuid.UUID
    status: ErasureStatus = ErasureStatus.REQUESTED
    confirmed_by: uuid.UUID | None = None
    confirmed_at: datetime | None = None
    pseudonym: str | None = None
    files_deleted: int | None = None

    @classmethod
    def ask(cls, actor: Principal, subject_id: uuid.UUID, subject_company: uuid.UUID, reason: str) -> ErasureRequest:
        if not may_erase(actor):
            raise Forbidden("only HR or an ADMIN may ask for a person's erasure")
        reason = reason.strip()
        if not reason:
            raise Invalid.field("reason", "must not be empty")
        if len(reason) > MAX_REASON_LENGTH:
            raise Invalid.field("reason", f"must be at most {MAX_REASON_LENGTH} characters")
        if subject_id == actor.user_id:
            raise Invalid.field("user_id", "you may not ask for your own erasure here")
        request = cls(company_id=subject_company, subject_id=subject_id, reason=reason, requested_by=actor.user_id)
        request.record_event(
            ErasureRequested(
                erasure_request_id=request.id,
                subject_id=subject_id,
                company_id=subject_company,
                requested_by=actor.user_id,
                actor_id=actor.user_id,
            )
        )
        return request

    def confirm(self, actor: Principal, now: datetime, files_deleted: int) -> None:
        if self.status is not ErasureStatus.REQUESTED:
            raise InvalidTransition("ErasureRequest", self.status.value, ErasureStatus.DONE.value)
        self.check_confirmer(actor)
        self.status = ErasureStatus.DONE
        self.confirmed_by = actor.user_id
        self.confirmed_at = now
        self.pseudonym = pseudonym_of(self.subject_id)
        self.files_deleted = files_deleted
        self.record_event(
            PersonErased(
                erasure_request_id=self.id,
                subject_id=self.subject_id,
                company_id=self.company_id,
                requested_by=self.requested_by,
                actor_id=actor.user_id,
                occurred_at=now,
                pseudonym=self.pseudonym,
                files_deleted=files_deleted,
            )
        )

    def check_confirmer(self, actor: Principal) -> None:
        if not may_erase(actor):
            raise Forbidden("only HR or an ADMIN may confirm an erasure")
        if actor.user_id == self.requested_by:
            raise SameConfirmer("a second person (HR or ADMIN) must confirm the erasure you asked for")
        if self.status is not ErasureStatus.REQUESTED:
            raise InvalidTransition("ErasureRequest", self.status.value, ErasureStatus.DONE.value)
