"""The events the privacy context publishes (class names and fields are the contract).

Published shape (``payload``): ``erasureRequestId``, ``subjectId``, ``companyId``,
``requestedBy``; a ``PersonErased`` adds ``pseudonym`` and ``filesDeleted``. Never the reason
nor anything else a person wrote: the outbox outlives the erasure. The actor and the time are
on the event's row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from domains.kernel.events import ENVELOPE, DomainEvent, now


@dataclass(frozen=True, kw_only=True)
class PrivacyEvent(DomainEvent):
    aggregate: ClassVar[str] = "ErasureRequest"
    aggregate_key: ClassVar[str] = "erasure_request_id"

    erasure_request_id: uuid.UUID
    subject_id: uuid.UUID
    company_id: uuid.UUID
    requested_by: uuid.UUID
    actor_id: uuid.UUID | None = field(metadata=ENVELOPE)
    occurred_at: datetime = field(default_factory=now, metadata=ENVELOPE)


@dataclass(frozen=True, kw_only=True)
class ErasureRequested(PrivacyEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class PersonErased(PrivacyEvent):
    pseudonym: str
    files_deleted: int


EVENT_TYPES = frozenset({ErasureRequested.__name__, PersonErased.__name__})
