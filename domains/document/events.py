"""The document context's events. Their class names and fields are its published contract:
the outbox stores ``type`` (the class name) and ``payload`` (the fields, camelCase, JSON).

Other contexts never import this module: the composition root (``app/reactions.py``)
subscribes their reactions to these classes and passes them plain values. Keep names and
fields stable; add fields rather than change them.

Every payload has these keys, all JSON values:

- ``documentId``, ``ownerId``, ``companyId``: ids as strings
- ``kind``: ``CONTRACT`` | ``ID`` | ``TAX_FORM`` | ``CERTIFICATE`` | ``OTHER``
- ``status``: the status after the event; ``previousStatus``: the one before
- ``actorId``: who did it (id string); ``occurredAt``: when (ISO 8601, UTC)
- ``reason``: the rejection reason for ``DocumentRejected``, else null
- ``fileVersion``: the document's latest uploaded file version (0 when none)
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from domains.kernel.events import DomainEvent, camel


@dataclass(frozen=True, kw_only=True)
class DocumentEvent(DomainEvent):
    """A move of one document, recorded by ``Document`` (``domains/document/model.py``)."""

    aggregate: ClassVar[str] = "Document"
    aggregate_key: ClassVar[str] = "document_id"

    document_id: uuid.UUID
    owner_id: uuid.UUID
    company_id: uuid.UUID
    kind: str
    status: str
    previous_status: str
    actor_id: uuid.UUID
    occurred_at: datetime
    reason: str | None = None
    file_version: int


@dataclass(frozen=True, kw_only=True)
class DocumentUploaded(DocumentEvent):
    """Its next file was confirmed: REQUESTED or REJECTED to UPLOADED."""


@dataclass(frozen=True, kw_only=True)
class DocumentSubmitted(DocumentEvent):
    """UPLOADED to IN_REVIEW."""


@dataclass(frozen=True, kw_only=True)
class DocumentApproved(DocumentEvent):
    """IN_REVIEW to APPROVED."""


@dataclass(frozen=True, kw_only=True)
class DocumentRejected(DocumentEvent):
    """IN_REVIEW to REJECTED, with a ``reason``."""


@dataclass(frozen=True, kw_only=True)
class DocumentExpired(DocumentEvent):
    """Its expiry date came: UPLOADED, IN_REVIEW, APPROVED or REJECTED to EXPIRED. A renewal
    (a new REQUESTED document of the same kind, ``renewsId`` this one) is created with it."""


EVENTS = (DocumentUploaded, DocumentSubmitted, DocumentApproved, DocumentRejected, DocumentExpired)
EVENT_TYPES = tuple(e.published_name() for e in EVENTS)
PAYLOAD_KEYS = tuple(camel(f.name) for f in dataclasses.fields(DocumentEvent))
