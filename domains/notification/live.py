"""A person's notifications as they are made: the ``NotificationCreated`` events of the outbox
that are theirs, live, in order. Nobody sees another person's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from domains.kernel.principal import Principal
from domains.notification.inbox import CREATED, Notification


class OutboxEvent(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


class LiveEvents(Protocol):
    def __aiter__(self) -> AsyncIterator[OutboxEvent]: ...
    def close(self) -> None: ...


class EventFeed(Protocol):
    async def subscribe(self) -> LiveEvents: ...


async def watch(feed: EventFeed, viewer: Principal) -> AsyncIterator[Notification]:
    live = await feed.subscribe()
    owner = str(viewer.user_id)
    try:
        async for event in live:
            if event.type == CREATED and event.payload.get("userId") == owner:
                yield Notification.of_payload(event.payload)
    finally:
        live.close()
