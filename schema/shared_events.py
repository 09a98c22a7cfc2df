"""One execution per subscription event for all the watchers who would get the same answer.

A process fans one event out to every subscriber; GraphQL then executes each subscriber's
selection on it. Subscribers with the same operation, the same variables and the same
viewer get the same answer, so the first execution is kept (briefly) and handed to the
others. The event value opts in with ``shared_key`` (unique per event); everything else
(queries, mutations, other subscriptions) executes as always.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import OrderedDict
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

KEPT = 256


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    _executed: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()

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
