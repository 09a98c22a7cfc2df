"""Document reviews as the document context publishes them, for driving workflows in tests.

Until the document commands (issue 7) are merged, this helper plays them: it moves the
document through the generic service and records ``DocumentSubmitted`` / ``DocumentApproved``
/ ``DocumentRejected`` with their published payload, through one unit of work that carries
the composition root's workflow wiring (``app.wiring.workflow_parts``), exactly as a
request's does. The workflow handler then runs in that transaction, before commit.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from adapters.sql.database import RequestDatabase
from app.wiring import Container, workflow_parts
from domains.document.model import DocumentStatus
from domains.kernel.events import DomainEvent
from domains.kernel.principal import Principal

SUBMITTED, APPROVED, REJECTED = "DocumentSubmitted", "DocumentApproved", "DocumentRejected"
_TARGET = {SUBMITTED: DocumentStatus.IN_REVIEW, APPROVED: DocumentStatus.APPROVED, REJECTED: DocumentStatus.REJECTED}


class RolledBack(Exception):
    pass


async def review(
    container: Container, reviewer: Principal, document_id: uuid.UUID, event_type: str, *, roll_back: bool = False
) -> None:
    db = RequestDatabase(container.engine)
    services = container.services(db)
    workflow_parts(container, db, services)
    documents = services["Document"]
    async with db.transaction():
        document = await documents.get(reviewer, document_id)
        assert document is not None
        if event_type == SUBMITTED and document.status in (DocumentStatus.REQUESTED, DocumentStatus.REJECTED):
            uploaded = {"status": DocumentStatus.UPLOADED}
            document = await documents.update(reviewer, document_id, uploaded, document.version)
        previous = document.status
        document = await documents.update(reviewer, document_id, {"status": _TARGET[event_type]}, document.version)
        db.record(
            DomainEvent(
                type=event_type,
                aggregate="Document",
                aggregate_id=document.id,
                company_id=document.company_id,
                actor_id=reviewer.user_id,
                payload={
                    "documentId": str(document.id),
                    "ownerId": str(document.owner_id),
                    "companyId": str(document.company_id),
                    "kind": document.kind.value,
                    "status": document.status.value,
                    "previousStatus": previous.value,
                    "actorId": str(reviewer.user_id),
                },
            )
        )
        if roll_back:
            raise RolledBack()


async def step_documents(container: Container, workflow_id: str | uuid.UUID) -> list[uuid.UUID]:
    from domains.kernel.ids import from_global_id

    key = from_global_id(workflow_id)[1] if isinstance(workflow_id, str) else workflow_id
    async with container.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT document_id FROM workflow_steps WHERE workflow_id = :w ORDER BY position"), {"w": key}
        )
        return [r.document_id for r in rows]


async def last_event_id(container: Container) -> int:
    """The last event id handed out (committed or not): subscribing after it misses nothing."""
    async with container.engine.connect() as conn:
        value = await conn.execute(
            sa.text("SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM events_id_seq")
        )
        return int(value.scalar_one())
