"""Document events through the composition root's bus: a handler subscribed to the typed event
runs in the command's transaction, and a rolled-back approval leaves neither its change nor
its event."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sql.database import RequestDatabase
from adapters.sql.store import SqlEntityStore
from domains.catalog import Commands
from domains.document.events import PAYLOAD_KEYS, DocumentApproved
from domains.document.model import Document, DocumentKind, DocumentStatus

ALICE, HR = "alice@acme.example", "hr@acme.example"


async def _in_review(container, demo) -> Document:
    owner = demo.principal(ALICE)
    document = Document(
        company_id=owner.company_id,
        owner_id=owner.user_id,
        title="Tax form",
        kind=DocumentKind.TAX_FORM,
        status=DocumentStatus.IN_REVIEW,
        file_version=1,
    )
    db = RequestDatabase(container.engine)
    async with db.transaction():
        await SqlEntityStore(db, container.registry, container.tables).insert(container.registry["Document"], document)
    return document


async def _state(container, id: uuid.UUID) -> tuple[str, list[str]]:
    async with container.engine.connect() as conn:
        status = (await conn.execute(sa.text("SELECT status FROM documents WHERE id = :id"), {"id": id})).scalar_one()
        types = (
            await conn.execute(sa.text("SELECT type FROM events WHERE aggregate_id = :id ORDER BY id"), {"id": id})
        ).scalars()
        return status, list(types)


@pytest.fixture
def handlers(container):
    """Handlers subscribed for one test only: the container (and its bus) is shared by the session."""
    before = {t: list(h) for t, h in container.bus.handlers.items()}
    yield container
    container.bus.handlers.clear()
    container.bus.handlers.update(before)


async def _approve(container, demo, id: uuid.UUID) -> Document:
    # As HR's own operation: the database answers the operation's caller (row-level security).
    context = container.operation_context("test", demo.principal(HR))
    return await context.commands.document.approve(demo.principal(HR), id, 1)


async def test_an_approval_that_rolls_back_leaves_no_event(handlers, demo) -> None:
    document = await _in_review(handlers, demo)

    async def refuse(event: DocumentApproved, commands: Commands) -> None:
        raise RuntimeError("the workflow step could not be completed")

    handlers.bus.subscribe(DocumentApproved, refuse)
    with pytest.raises(RuntimeError):
        await _approve(handlers, demo, document.id)
    assert await _state(handlers, document.id) == ("IN_REVIEW", [])


async def test_a_handler_sees_the_published_payload_inside_the_transaction(handlers, demo) -> None:
    document = await _in_review(handlers, demo)
    seen: list[dict[str, Any]] = []

    async def workflow_step(event: DocumentApproved, commands: Commands) -> None:
        """Subscribed once; given the operation's commands, on the approval's unit of work."""
        seen.append(event.payload)
        # read through the operation's commands: the approval is visible, not yet committed
        found = await commands.document.documents.visible(demo.principal(HR), event.document_id)
        assert found is not None
        outside, _ = await _state(handlers, found.id)  # another connection: not committed yet
        seen.append({"status seen by the handler": found.status.value, "outside": outside})

    handlers.bus.subscribe(DocumentApproved, workflow_step)
    await _approve(handlers, demo, document.id)
    payload, inside = seen
    assert inside == {"status seen by the handler": "APPROVED", "outside": "IN_REVIEW"}
    assert tuple(payload) == PAYLOAD_KEYS
    assert payload["documentId"] == str(document.id) and payload["status"] == "APPROVED"
    assert payload["actorId"] == str(demo.id(HR)) and payload["kind"] == "TAX_FORM"
    assert await _state(handlers, document.id) == ("APPROVED", ["DocumentApproved"])
    async with handlers.engine.connect() as conn:
        stored = await conn.execute(sa.text("SELECT payload FROM events WHERE aggregate_id = :id"), {"id": document.id})
        assert stored.scalar_one() == payload
