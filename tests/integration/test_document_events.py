"""Document events through the composition root: a handler registered on the container runs in
the command's transaction, reads only the published payload, and a rolled-back approval leaves
neither its change nor its event."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sql.database import RequestDatabase
from adapters.sql.store import SqlEntityStore
from domains.document.events import PAYLOAD_KEYS
from domains.document.model import Document, DocumentKind, DocumentStatus
from domains.document.service import DocumentCommands
from domains.kernel.events import DomainEvent

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
    """Handlers registered for one test only: the container is shared by the session."""
    before = {t: list(h) for t, h in container.handlers.items()}
    yield container
    container.handlers.clear()
    container.handlers.update(before)


async def _approve(container, demo, id: uuid.UUID) -> Document:
    context = container.context("test", None, {})
    commands = context.use_case("document", DocumentCommands)
    async with context.transaction():
        return await commands.approve(demo.principal(HR), id, 1)


async def test_an_approval_that_rolls_back_leaves_no_event(handlers, demo) -> None:
    document = await _in_review(handlers, demo)

    async def refuse(event: DomainEvent) -> None:
        raise RuntimeError("the workflow step could not be completed")

    handlers.on("DocumentApproved", lambda services, use_cases: refuse)
    with pytest.raises(RuntimeError):
        await _approve(handlers, demo, document.id)
    assert await _state(handlers, document.id) == ("IN_REVIEW", [])


async def test_a_handler_sees_the_published_payload_inside_the_transaction(handlers, demo) -> None:
    document = await _in_review(handlers, demo)
    seen: list[dict[str, Any]] = []

    def workflow_step(services: dict[str, Any], use_cases: dict[str, Any]) -> Any:
        """Built per request: it may change rows through this request's services, in its transaction."""

        async def handle(event: DomainEvent) -> None:
            seen.append(dict(event.payload))
            # read through this request's services: the approval is visible, not yet committed
            found = await services["Document"].get(demo.principal(HR), uuid.UUID(event.payload["documentId"]))
            outside, _ = await _state(handlers, found.id)  # another connection: not committed yet
            seen.append({"status seen by the handler": found.status.value, "outside": outside})

        return handle

    handlers.on("DocumentApproved", workflow_step)
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
