"""Follow-ups in GraphQL: ``remindedAt`` and ``escalatedAt`` of a ``Document`` and of a
``WorkflowStep`` (through the domain seam, one batched look-up per operation and type),
and the company's follow-up settings."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from domains.notification.follow_ups import DOCUMENT, WORKFLOW_STEP, FollowUp, FollowUpCommands, FollowUpSettings
from schema.context import Info


def commands(info: Info) -> FollowUpCommands:
    return info.context.commands.follow_up


def _loader(info: Info, target_type: str) -> DataLoader[uuid.UUID, FollowUp | None]:
    follow_ups = commands(info)

    def build() -> DataLoader[Any, Any]:
        async def load(ids: Sequence[uuid.UUID]) -> list[FollowUp | None]:
            found = await follow_ups.of_targets(target_type, ids)
            return [found.get(i) for i in ids]

        return DataLoader(load_fn=load)

    return info.context.loaders.custom(("follow_ups", target_type), build)


def _fields(target_type: str, who: str, reminded: str) -> dict[str, Any]:
    """``remindedAt`` and ``escalatedAt`` of a target's current due date (one batched look-up
    per operation and target type)."""

    async def follow_up(root: Any, info: Info) -> FollowUp | None:
        found = await _loader(info, target_type).load(root.id)
        return found.for_due_date(root.due_on) if found is not None else None

    async def reminded_at(root: Any, info: Info) -> datetime.datetime | None:
        found = await follow_up(root, info)
        return found.reminded_at if found is not None else None

    async def escalated_at(root: Any, info: Info) -> datetime.datetime | None:
        found = await follow_up(root, info)
        return found.escalated_at if found is not None else None

    return {
        "reminded_at": strawberry.field(
            resolver=reminded_at, description=f"When {reminded} was last reminded of its current due date (else null)."
        ),
        "escalated_at": strawberry.field(
            resolver=escalated_at,
            description=f"When it was last escalated, overdue, to {who} manager or HR (for its current due date).",
        ),
    }


DOCUMENT_FIELDS = _fields(DOCUMENT, "its owner's", "its owner")
STEP_FIELDS = _fields(WORKFLOW_STEP, "its subject's", "whoever it waits on")


@strawberry.type(
    name="FollowUpSettings",
    description="When the company's people are reminded of what is due, and when it escalates.",
)
class FollowUpSettingsType:
    reminder_days: list[int] = strawberry.field(description="Days before a due date (0: the day itself).")
    escalate_after_days: int = strawberry.field(
        description="Overdue this many days: the owner's manager is told (HR without one); twice as many: HR."
    )
    own: bool = strawberry.field(description="The company's own settings, or the defaults.")

    @classmethod
    def of(cls, settings: FollowUpSettings) -> FollowUpSettingsType:
        return cls(
            reminder_days=list(settings.reminder_days),
            escalate_after_days=settings.escalate_after_days,
            own=settings.own,
        )


async def follow_up_settings(info: Info) -> FollowUpSettingsType:
    return FollowUpSettingsType.of(await commands(info).settings(info.context.viewer))


QUERY = strawberry.field(resolver=follow_up_settings, description="The company's follow-up settings (HR, ADMIN).")
