"""markNotificationsRead(ids): your notifications, read; the unread count after."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry

from domains.notification.inbox import parse_global_id
from schema.context import Info
from schema.domain import StaticMutation
from schema.errors import MUTATION_ERRORS
from schema.notification.types import Notification, commands


@strawberry.type(description="The notifications marked read, and how many of yours are still unread.")
class MarkNotificationsReadPayload:
    notifications: list[Notification]
    unread_count: int


_RESULT: Any = (MarkNotificationsReadPayload, *MUTATION_ERRORS)
MarkNotificationsReadResult = Annotated[Union[_RESULT], strawberry.union("MarkNotificationsReadResult")]  # noqa: UP007


async def mark_notifications_read(info: Info, ids: list[strawberry.ID]) -> Any:
    keys = [parse_global_id(str(i)) for i in ids]
    viewer = info.context.viewer
    marked = await commands(info).mark_read(viewer, keys)
    unread = await commands(info).unread(viewer)
    return MarkNotificationsReadPayload(notifications=[Notification.of(n) for n in marked], unread_count=unread)


MUTATION = StaticMutation(
    mark_notifications_read,
    MarkNotificationsReadResult,
    "Marks your notifications read (all named must be yours, else nothing changes).",
)
