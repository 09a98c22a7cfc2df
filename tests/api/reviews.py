"""Document reviews through the real document commands, for driving workflows in tests.

Each review runs in one operation's context as the composition root builds it
(``Container.context``): the document's moves record ``DocumentSubmitted`` /
``DocumentApproved`` / ``DocumentRejected``, and the workflow's reaction on the bus
(``app/reactions.py``) moves the step in the same transaction. Getting a file in (request
ticket, upload, confirm) is the document issue's path and tested there; here ``uploaded``
arranges that state in the table.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.wiring import Container
from domains.catalog import Commands
from domains.document.events import DocumentEvent
from domains.document.model import DocumentStatus
from domains.kernel.ids import from_global_id
from domains.kernel.principal import Principal

SUBMITTED, APPROVED, REJECTED = "DocumentSubmitted", "DocumentApproved", "DocumentRejected"


class RolledBack(Exception):
    pass


async def uploaded(container: Container, document_id: uuid.UUID) -> None:
    """As if its owner had uploaded and confirmed a file."""
    async with container.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "UPDATE documents SET status = 'UPLOADED', file_version = file_version + 1, version = version + 1"
                " WHERE id = :id"
            ),
            {"id": document_id},
        )


async def review(
    container: Container, reviewer: Principal, document_id: uuid.UUID, event_type: str, *, roll_back: bool = False
) -> None:
    context = container.operation_context(request_id=uuid.uuid4().hex, principal=reviewer)
    documents = context.service("Document")
    current = await documents.get(reviewer, document_id)
    assert current is not None
    if event_type == SUBMITTED and current.status in (DocumentStatus.REQUESTED, DocumentStatus.REJECTED):
        await uploaded(container, document_id)
        current = await documents.get(reviewer, document_id)
        assert current is not None
    commands = context.commands.document
    # The workflow's reaction is subscribed to the review's own event class; a handler of
    # every document event runs after it, in the same transaction, so failing there rolls
    # back the review and the step's move together.
    bus = container.bus
    if roll_back:
        bus.subscribe(DocumentEvent, _roll_back)
    try:
        if event_type == SUBMITTED:
            await commands.submit(reviewer, document_id, current.version)
        elif event_type == APPROVED:
            await commands.approve(reviewer, document_id, current.version)
        else:
            await commands.reject(reviewer, document_id, "not readable", current.version)
    finally:
        if roll_back:
            bus.handlers[DocumentEvent].remove(_roll_back)


async def _roll_back(event: DocumentEvent, commands: Commands) -> None:
    raise RolledBack()


async def step_documents(container: Container, workflow_id: str | uuid.UUID) -> list[uuid.UUID]:
    key = from_global_id(workflow_id)[1] if isinstance(workflow_id, str) else workflow_id
    async with container.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT document_id FROM workflow_steps WHERE workflow_id = :w ORDER BY position"), {"w": key}
        )
        return [r.document_id for r in rows]


async def document_version(container: Container, document_id: uuid.UUID) -> int:
    async with container.engine.connect() as conn:
        found = await conn.execute(sa.text("SELECT version FROM documents WHERE id = :id"), {"id": document_id})
        return int(found.scalar_one())


async def last_event_id(container: Container) -> int:
    """The last event id handed out (committed or not): subscribing after it misses nothing."""
    async with container.engine.connect() as conn:
        value = await conn.execute(
            sa.text("SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM events_id_seq")
        )
        return int(value.scalar_one())
