"""The document context's published events: their names and payload keys are a contract.

Other contexts (the workflow engine) register handlers for these types in the composition
root and read only the payload, never ``domains.document``. Keep names and keys stable; add
keys rather than change them.

Types: ``DocumentUploaded``, ``DocumentSubmitted``, ``DocumentApproved``, ``DocumentRejected``.
Every payload has these keys, all JSON values:

- ``documentId``, ``ownerId``, ``companyId``: ids as strings
- ``kind``: ``CONTRACT`` | ``ID`` | ``TAX_FORM`` | ``CERTIFICATE`` | ``OTHER``
- ``status``: the status after the event; ``previousStatus``: the one before
- ``actorId``: who did it (id string); ``occurredAt``: when (ISO 8601, UTC)
- ``reason``: the rejection reason for ``DocumentRejected``, else null
- ``fileVersion``: the document's latest uploaded file version (0 when none)

``Document`` records them (``domains/document/model.py``). The event itself carries
``aggregate="Document"``, ``aggregate_id`` (the document id),
``company_id`` and ``actor_id`` as well.
"""

from __future__ import annotations

DOCUMENT_UPLOADED = "DocumentUploaded"
DOCUMENT_SUBMITTED = "DocumentSubmitted"
DOCUMENT_APPROVED = "DocumentApproved"
DOCUMENT_REJECTED = "DocumentRejected"
EVENT_TYPES = (DOCUMENT_UPLOADED, DOCUMENT_SUBMITTED, DOCUMENT_APPROVED, DOCUMENT_REJECTED)
PAYLOAD_KEYS = (
    "documentId",
    "ownerId",
    "companyId",
    "kind",
    "status",
    "previousStatus",
    "actorId",
    "occurredAt",
    "reason",
    "fileVersion",
)
