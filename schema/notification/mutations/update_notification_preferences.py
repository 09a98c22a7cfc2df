"""updateNotificationPreferences(input): which kinds reach you, and whether by e-mail."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry

from schema.context import Info
from schema.domain import StaticMutation
from schema.errors import MUTATION_ERRORS
from schema.notification.types import NotificationKind, NotificationPreferences, commands


@strawberry.input(description="What to change; a field left out stays as it is.")
class UpdateNotificationPreferencesInput:
    muted_kinds: list[NotificationKind] | None = None
    email: bool | None = None


@strawberry.type(description="Your preferences as they are now.")
class NotificationPreferencesPayload:
    preferences: NotificationPreferences


_RESULT: Any = (NotificationPreferencesPayload, *MUTATION_ERRORS)
UpdateNotificationPreferencesResult = Annotated[
    Union[_RESULT],  # noqa: UP007
    strawberry.union("UpdateNotificationPreferencesResult"),
]


async def update_notification_preferences(info: Info, input: UpdateNotificationPreferencesInput) -> Any:
    muted = None if input.muted_kinds is None else [k.value for k in input.muted_kinds]
    saved = await commands(info).set_preferences(info.context.viewer, muted, input.email)
    return NotificationPreferencesPayload(preferences=NotificationPreferences.of(saved))


MUTATION = StaticMutation(
    update_notification_preferences,
    UpdateNotificationPreferencesResult,
    "Sets which kinds of notification reach you, and whether by e-mail too (in-app ones always).",
)
