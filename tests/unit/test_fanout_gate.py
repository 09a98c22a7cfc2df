"""The process's fan-out gate (schema/shared_events.py): a bounded number of deliveries at
once, a turn only while a delivery runs, and never kept by a consumer that stops reading."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from schema.shared_events import FanoutGate


async def _events(ready: asyncio.Event, count: int) -> AsyncIterator[int]:
    await ready.wait()
    for n in range(count):
        yield n


async def test_at_most_the_limit_deliver_at_once_and_all_deliver() -> None:
    gate = FanoutGate(3)
    ready = asyncio.Event()
    delivered: list[int] = []

    async def subscriber() -> None:
        async for _ in gate.turns(_events(ready, 2)):
            await asyncio.sleep(0.01)  # executing and sending, within the turn
            delivered.append(gate.running)

    subscribers = [asyncio.create_task(subscriber()) for _ in range(20)]
    await asyncio.sleep(0.01)
    assert gate.running == 0  # waiting for events holds no turn
    ready.set()
    await asyncio.wait_for(asyncio.gather(*subscribers), 5)
    assert len(delivered) == 40
    assert gate.most_running == 3 and max(delivered) <= 3
    assert gate.running == 0


async def test_a_subscriber_that_stops_reading_gives_its_turn_back() -> None:
    gate = FanoutGate(1, turn_seconds=0.2)
    ready = asyncio.Event()
    ready.set()
    stuck = gate.turns(_events(ready, 5))
    assert await anext(stuck) == 0  # its turn: and it never asks for the next event

    loop = asyncio.get_running_loop()
    started = loop.time()
    other = gate.turns(_events(ready, 1))
    assert await asyncio.wait_for(anext(other), 5) == 0
    assert 0.15 <= loop.time() - started < 2  # after the turn's time, not never
    await other.aclose()
    await stuck.aclose()
    assert gate.running == 0


async def test_a_closed_subscription_gives_its_turn_back_at_once() -> None:
    gate = FanoutGate(1, turn_seconds=60)
    ready = asyncio.Event()
    ready.set()
    first = gate.turns(_events(ready, 5))
    await anext(first)
    await first.aclose()  # the subscriber left mid-delivery
    second = gate.turns(_events(ready, 1))
    assert await asyncio.wait_for(anext(second), 1) == 0
    await second.aclose()
