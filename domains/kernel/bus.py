"""The message bus: a table from event class to its handlers (cosmicpython's ``messagebus``).

Built once per process by the composition root (``app/reactions.py``), which is where one
context's reaction to another's event is written down. A handler gets the event and the
operation's commands (``C``), on the unit of work whose transaction recorded the event: what
it changes commits with that change, or neither does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from domains.kernel.events import DomainEvent

C = TypeVar("C")
Ev = TypeVar("Ev", bound=DomainEvent)

Handler = Callable[[Ev, C], Awaitable[None]]


class MessageBus(Generic[C]):
    def __init__(self) -> None:
        self.handlers: dict[type[DomainEvent], list[Callable[[Any, C], Awaitable[None]]]] = {}

    def subscribe(self, event_type: type[Ev], handler: Callable[[Ev, C], Awaitable[None]]) -> None:
        """``handler`` runs for every event of ``event_type`` or of a subclass of it."""
        self.handlers.setdefault(event_type, []).append(handler)

    async def handle(self, event: DomainEvent, commands: C) -> None:
        for kind in type(event).__mro__:
            for handler in self.handlers.get(kind, ()):
                await handler(event, commands)
