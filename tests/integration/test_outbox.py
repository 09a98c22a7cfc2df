"""The unit of work writes domain events to the outbox in the change's own transaction."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
import sqlalchemy as sa

from adapters.sql.database import RequestDatabase
from adapters.sql.outbox import NOTIFY_CHANNEL
from domains.kernel.events import DomainEvent


def _event(type: str, company: uuid.UUID, **payload: object) -> DomainEvent:
    return DomainEvent(
        type=type, aggregate="Thing", aggregate_id=uuid.uuid4(), company_id=company, actor_id=None, payload=payload
    )


async def _stored(container) -> list[tuple[str, dict[str, object]]]:
    async with container.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT type, payload FROM events ORDER BY id"))
        return [(r.type, r.payload) for r in rows]


async def _clear(container) -> None:
    async with container.engine.begin() as conn:
        await conn.execute(sa.text("TRUNCATE events"))


async def test_events_commit_with_the_change_in_order(container) -> None:
    await _clear(container)
    db = RequestDatabase(container.engine)
    company = uuid.uuid4()
    async with db.transaction():
        db.record(_event("First", company, n=1, who=uuid.UUID(int=7)))
        db.record(_event("Second", company, n=2))
    assert await _stored(container) == [
        ("First", {"n": 1, "who": str(uuid.UUID(int=7))}),
        ("Second", {"n": 2}),
    ]


async def test_a_rolled_back_change_leaves_no_event(container) -> None:
    await _clear(container)
    db = RequestDatabase(container.engine)
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction():
            db.record(_event("Lost", uuid.uuid4()))
            raise RuntimeError("boom")
    assert await _stored(container) == []
    async with db.transaction():  # and nothing recorded before leaks into the next one
        pass
    assert await _stored(container) == []


async def test_handlers_run_before_commit_and_may_record_more(container) -> None:
    await _clear(container)
    db = RequestDatabase(container.engine)
    company = uuid.uuid4()
    seen_in_transaction: list[int] = []

    async def on_approved(event: DomainEvent) -> None:
        # the handler shares the transaction: it sees the event row not yet committed
        count = (await db.execute(sa.text("SELECT count(*) FROM events"))).scalar_one()
        seen_in_transaction.append(count)
        db.record(_event("StepCompleted", event.company_id, cause=event.type))

    db.on("Approved", on_approved)
    async with db.transaction():
        db.record(_event("Approved", company))
    assert seen_in_transaction == [1]
    assert await _stored(container) == [("Approved", {}), ("StepCompleted", {"cause": "Approved"})]


async def test_a_failing_handler_rolls_everything_back(container) -> None:
    await _clear(container)
    db = RequestDatabase(container.engine)

    async def refuse(_: DomainEvent) -> None:
        raise ValueError("the step cannot complete")

    db.on("Approved", refuse)
    with pytest.raises(ValueError):
        async with db.transaction():
            db.record(_event("Approved", uuid.uuid4()))
    assert await _stored(container) == []


async def test_listeners_are_woken_on_commit_only(container, database_url: str) -> None:
    await _clear(container)
    dsn = sa.engine.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    listener = await asyncpg.connect(dsn)
    woken: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: woken.put_nowait(args[3]))
    try:
        db = RequestDatabase(container.engine)
        with pytest.raises(RuntimeError):
            async with db.transaction():
                db.record(_event("Lost", uuid.uuid4()))
                raise RuntimeError("rolled back")
        async with db.transaction():
            db.record(_event("Kept", uuid.uuid4()))
        payload = await asyncio.wait_for(woken.get(), timeout=5)
        async with container.engine.connect() as conn:
            kept_id = (await conn.execute(sa.text("SELECT id FROM events WHERE type = 'Kept'"))).scalar_one()
        assert payload == str(kept_id)
        assert woken.empty()
    finally:
        await listener.close()


async def test_a_payload_that_is_not_json_fails_in_the_transaction(container) -> None:
    await _clear(container)
    db = RequestDatabase(container.engine)
    with pytest.raises(TypeError):
        async with db.transaction():
            db.record(_event("Odd", uuid.uuid4(), value=object()))
    assert await _stored(container) == []
