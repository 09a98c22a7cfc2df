"""The unit of work writes the events of the entities it saved to the outbox, in the change's
own transaction, and runs their handlers there."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import asyncpg
import pytest
import sqlalchemy as sa

from adapters.sql.database import RequestDatabase
from adapters.sql.outbox import NOTIFY_CHANNEL, SqlOutbox
from domains.kernel.bus import MessageBus
from domains.kernel.entity import Entity
from domains.kernel.events import ENVELOPE, OMITTED_WHEN_NONE, DomainEvent, now
from domains.kernel.unit_of_work import UnitOfWork


@dataclass(frozen=True, kw_only=True)
class Happened(DomainEvent):
    aggregate: ClassVar[str] = "Thing"
    aggregate_key: ClassVar[str] = "thing_id"
    thing_id: uuid.UUID
    company_id: uuid.UUID
    note: Any = field(default=None, metadata=OMITTED_WHEN_NONE)
    actor_id: uuid.UUID | None = field(default=None, metadata=ENVELOPE)
    occurred_at: datetime = field(default_factory=now, metadata=ENVELOPE)


class First(Happened): ...


class Second(Happened): ...


class Approved(Happened): ...


class StepCompleted(Happened): ...


class Lost(Happened): ...


class Kept(Happened): ...


def _unit_of_work(container, bus: MessageBus[RequestDatabase] | None = None) -> UnitOfWork[RequestDatabase]:
    """Handlers here are given the database handle itself as the operation's 'commands'."""
    db = RequestDatabase(container.engine)
    uow = UnitOfWork(db, SqlOutbox(db), bus or MessageBus())
    uow.serve(db)
    return uow


def _saved(uow: UnitOfWork[Any], kind: type[Happened], company: uuid.UUID, note: Any = None) -> None:
    """An entity that recorded an event, as the store tells the unit of work it saved it."""
    thing = Entity()
    thing.record_event(kind(thing_id=thing.id, company_id=company, note=note))
    uow.saved(thing)


async def _stored(container) -> list[tuple[str, dict[str, object]]]:
    async with container.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT type, payload FROM events ORDER BY id"))
        return [(r.type, r.payload.get("note")) for r in rows]


async def _clear(container) -> None:
    async with container.engine.begin() as conn:
        await conn.execute(sa.text("TRUNCATE events"))


async def test_events_commit_with_the_change_in_order(container) -> None:
    await _clear(container)
    uow = _unit_of_work(container)
    company = uuid.uuid4()
    async with uow.transaction():
        _saved(uow, First, company, {"n": 1, "who": str(uuid.UUID(int=7))})
        _saved(uow, Second, company, 2)
    assert await _stored(container) == [("First", {"n": 1, "who": str(uuid.UUID(int=7))}), ("Second", 2)]


async def test_a_use_case_inside_another_joins_its_transaction(container) -> None:
    """The inner one (the entity service under a command) publishes nothing on its own: its
    events commit with the outer change, and roll back with it."""
    await _clear(container)
    uow = _unit_of_work(container)
    company = uuid.uuid4()
    async with uow.transaction():
        async with uow.transaction():
            _saved(uow, First, company, "inner")
        assert await _stored(container) == []  # not committed yet
        _saved(uow, Second, company, "outer")
    assert await _stored(container) == [("First", "inner"), ("Second", "outer")]
    await _clear(container)
    with pytest.raises(RuntimeError, match="outer fails"):
        async with uow.transaction():
            async with uow.transaction():
                _saved(uow, Lost, company, "inner")
            raise RuntimeError("outer fails")
    assert await _stored(container) == []


async def test_a_rolled_back_change_leaves_no_event(container) -> None:
    await _clear(container)
    uow = _unit_of_work(container)
    with pytest.raises(RuntimeError, match="boom"):
        async with uow.transaction():
            _saved(uow, Lost, uuid.uuid4())
            raise RuntimeError("boom")
    assert await _stored(container) == []
    async with uow.transaction():  # and nothing recorded before leaks into the next one
        pass
    assert await _stored(container) == []


async def test_handlers_run_before_commit_and_may_record_more(container) -> None:
    await _clear(container)
    company = uuid.uuid4()
    seen_in_transaction: list[int] = []
    bus: MessageBus[RequestDatabase] = MessageBus()
    uow = _unit_of_work(container, bus)

    async def on_approved(event: Approved, db: RequestDatabase) -> None:
        # the handler shares the transaction: it sees the event row not yet committed
        count = (await db.execute(sa.text("SELECT count(*) FROM events"))).scalar_one()
        seen_in_transaction.append(count)
        _saved(uow, StepCompleted, event.company_id, event.type)

    bus.subscribe(Approved, on_approved)
    async with uow.transaction():
        _saved(uow, Approved, company)
    assert seen_in_transaction == [1]
    assert await _stored(container) == [("Approved", None), ("StepCompleted", "Approved")]


async def test_a_handler_hears_the_subclasses_of_its_event_type(container) -> None:
    await _clear(container)
    bus: MessageBus[RequestDatabase] = MessageBus()
    heard: list[str] = []

    async def on_any(event: Happened, _: RequestDatabase) -> None:
        heard.append(event.type)

    bus.subscribe(Happened, on_any)
    bus.subscribe(Second, on_any)
    uow = _unit_of_work(container, bus)
    async with uow.transaction():
        _saved(uow, First, uuid.uuid4())
        _saved(uow, Second, uuid.uuid4())
    assert heard == ["First", "Second", "Second"]


async def test_a_failing_handler_rolls_everything_back(container) -> None:
    await _clear(container)
    bus: MessageBus[RequestDatabase] = MessageBus()

    async def refuse(_: Approved, __: RequestDatabase) -> None:
        raise ValueError("the step cannot complete")

    bus.subscribe(Approved, refuse)
    uow = _unit_of_work(container, bus)
    with pytest.raises(ValueError):
        async with uow.transaction():
            _saved(uow, Approved, uuid.uuid4())
    assert await _stored(container) == []


async def test_listeners_are_woken_on_commit_only(container, database_url: str) -> None:
    await _clear(container)
    dsn = sa.engine.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    listener = await asyncpg.connect(dsn)
    woken: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: woken.put_nowait(args[3]))
    try:
        uow = _unit_of_work(container)
        with pytest.raises(RuntimeError):
            async with uow.transaction():
                _saved(uow, Lost, uuid.uuid4())
                raise RuntimeError("rolled back")
        async with uow.transaction():
            _saved(uow, Kept, uuid.uuid4())
        payload = await asyncio.wait_for(woken.get(), timeout=5)
        async with container.engine.connect() as conn:
            kept_id = (await conn.execute(sa.text("SELECT id FROM events WHERE type = 'Kept'"))).scalar_one()
        assert payload == str(kept_id)
        assert woken.empty()
    finally:
        await listener.close()


async def test_a_payload_that_is_not_json_fails_in_the_transaction(container) -> None:
    await _clear(container)
    uow = _unit_of_work(container)
    with pytest.raises(TypeError):
        async with uow.transaction():
            _saved(uow, Lost, uuid.uuid4(), object())
    assert await _stored(container) == []


def test_the_feed_decodes_an_event_once_for_all_its_watchers() -> None:
    """Watchers of one process share what an event decodes to; the cache is the feed's, not
    the domain's, and it is bounded."""
    import datetime as dt
    import uuid as uuid_

    from adapters.events.feed import DECODED_KEPT, OutboxFeed, StoredEvent

    feed = OutboxFeed("postgresql://unused", retention=dt.timedelta(hours=1))
    calls: list[int] = []

    def decode(event: StoredEvent) -> int:
        calls.append(event.id)
        return event.id * 10

    def event(id: int) -> StoredEvent:
        return StoredEvent(id, "X", "workflow", uuid_.uuid4(), uuid_.uuid4(), None, {}, dt.datetime.now(dt.UTC))

    first = event(1)
    assert [feed.decoded(first, decode) for _ in range(5)] == [10] * 5
    assert calls == [1]
    for id in range(2, DECODED_KEPT + 3):
        feed.decoded(event(id), decode)
    assert len(feed._decoded) == DECODED_KEPT
    feed.decoded(first, decode)  # long gone: decoded again
    assert calls.count(1) == 2
