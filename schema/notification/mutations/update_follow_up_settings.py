"""updateFollowUpSettings(input): the company's reminder days and escalation delay (HR, ADMIN)."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry

from schema.context import Info
from schema.domain import StaticMutation
from schema.errors import MUTATION_ERRORS
from schema.notification.follow_ups import FollowUpSettingsType, commands


@strawberry.input(description="What to change; a field left out stays as it is.")
class UpdateFollowUpSettingsInput:
    reminder_days: list[int] | None = None
    escalate_after_days: int | None = None


@strawberry.type(description="The company's follow-up settings as they are now.")
class FollowUpSettingsPayload:
    settings: FollowUpSettingsType


_RESULT: Any = (FollowUpSettingsPayload, *MUTATION_ERRORS)
UpdateFollowUpSettingsResult = Annotated[Union[_RESULT], strawberry.union("UpdateFollowUpSettingsResult")]  # noqa: UP007


async def update_follow_up_settings(info: Info, input: UpdateFollowUpSettingsInput) -> Any:
    saved = await commands(info).set_settings(info.context.viewer, input.reminder_days, input.escalate_after_days)
    return FollowUpSettingsPayload(settings=FollowUpSettingsType.of(saved))


MUTATION = StaticMutation(
    update_follow_up_settings,
    UpdateFollowUpSettingsResult,
    "Sets the company's reminder days (before due dates) and escalation delay (HR, ADMIN).",
)
