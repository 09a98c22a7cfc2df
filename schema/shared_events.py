"""Subscription events: delivered a bounded number at a time, and executed once for all the
watchers who would get the same answer.

A process fans one event out to every subscriber; GraphQL then executes each subscriber's
selection on it and the transport sends the result. Two rules keep that cheap and fair:

- At most ``FanoutGate.limit`` deliveries (an event's execution and the sending of its result)
  run at once in the process; the other subscribers wait their turn, in order. An HTTP request
  arriving meanwhile is served between a few deliveries (and finds free database connections)
  instead of after all of them. A subscription takes a turn when its source yields an event
  and gives it back when it asks for the next one: waiting for events holds no turn, and a
  turn is given back after ``TURN_SECONDS`` whatever happens, so a client that reads slowly
  (its send blocked) cannot keep one. The transport puts the process's gate in the
  operation's ``request_state`` under ``FANOUT_GATE``; without it, events are not gated.
- Subscribers with the same operation, the same variables and the same viewer get the same
  answer, so the first execution is kept (briefly) and handed to the others. The event value
  opts in with ``shared_key`` (unique per event).

Everything else (queries, mutations) executes as always.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from typing import Any, TypeVar

from graphql import OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

T = TypeVar("T")
KEPT = 256
FANOUT_GATE = "fanout_gate"
"""The ``request_state`` key of the process's ``FanoutGate`` in a socket operation's context."""
TURN_SECONDS = 2.0
"""The longest one delivery keeps its turn; past it the turn is given back (the delivery goes on)."""


class FanoutGate:
    """At most ``limit`` subscription deliveries at once in the process, first come first served."""

    def __init__(self, limit: int, turn_seconds: float = TURN_SECONDS) -> None:
        self.limit = max(1, limit)
        self.turn_seconds = turn_seconds
        self.running = 0
        self.most_running = 0  # the high-water mark, for the tests and the benchmark
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:  # a semaphore belongs to one loop
            self._slots, self._loop = asyncio.Semaphore(self.limit), loop
        return self._slots

    async def turns(self, source: AsyncIterable[T]) -> AsyncGenerator[T, None]:
        """``source``'s items, each handed on within a turn that lasts until the next is asked for."""
        iterator: AsyncIterator[T] = aiter(source)
        try:
            while True:
                try:
                    item = await anext(iterator)  # waiting for an event: no turn held
                except StopAsyncIteration:
                    return
                give_back = await self._take()
                try:
                    yield item  # the consumer executes and sends it within the turn
                finally:
                    give_back()
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _take(self) -> Any:
        slots = self._semaphore()
        await slots.acquire()
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            if not given_back:
                given_back = True
                self.running -= 1
                slots.release()
                timer.cancel()

        timer = asyncio.get_running_loop().call_later(self.turn_seconds, give_back)
        return give_back


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    _executed: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()

    def cancellable_iterable(self, iterable: AsyncIterable[T]) -> AsyncIterable[T]:
        """A subscription's source of events (graphql-core maps each to its execution)."""
        source = super().cancellable_iterable(iterable)
        gate = self._gate()
        return source if gate is None else gate.turns(source)

    def execute_operation(self, serially: bool | None = None) -> Any:
        event_key = getattr(self.root_value, "shared_key", None)
        if event_key is None:
            return super().execute_operation(serially)
        viewer = getattr(self.context_value, "principal", None)
        variables = getattr(self.variable_values, "coerced", None) or {}
        key = (event_key, id(self.operation), repr(sorted(variables.items())), viewer)
        kept = self._executed.get(key)
        if kept is None or kept[0] is not self.operation:  # not the same parsed operation: a reused id
            result = super().execute_operation(serially)
            if inspect.isawaitable(result):
                result = asyncio.ensure_future(result)  # executed once, awaited by every watcher
            kept = (self.operation, result)
            self._executed[key] = kept
            while len(self._executed) > KEPT:
                self._executed.popitem(last=False)
        result = kept[1]
        # A watcher that leaves mid-execution must not cancel the execution the others await.
        return asyncio.shield(result) if isinstance(result, asyncio.Future) else result

    def _gate(self) -> FanoutGate | None:
        """The process's gate, for a subscription whose context has one."""
        if self.operation.operation is not OperationType.SUBSCRIPTION:
            return None
        state = getattr(self.context_value, "request_state", None)
        gate = state.get(FANOUT_GATE) if isinstance(state, dict) else None
        return gate if isinstance(gate, FanoutGate) else None
