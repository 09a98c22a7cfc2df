"""In-app notifications: your inbox (``notifications``), marking read, your preferences, and
``notificationReceived``, live, for a bell; follow-ups: ``Document.remindedAt`` and
``escalatedAt``, the company's reminder days and escalation delay."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import strawberry

from domains.notification.live import watch
from schema.context import Info
from schema.domain import DomainSchema, mutation_fields
from schema.notification import follow_ups
from schema.notification.mutations import (
    mark_notifications_read,
    update_follow_up_settings,
    update_notification_preferences,
)
from schema.notification.types import (
    Notification,
    NotificationConnection,
    NotificationPreferences,
    commands,
)

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def notification_queries(_: EntitySchemaFactory) -> dict[str, Any]:
    async def notifications(
        info: Info, first: int = 20, after: str | None = None, unread_only: bool = False
    ) -> NotificationConnection:
        page = await commands(info).page(info.context.viewer, first, after, unread_only)
        return NotificationConnection.of(page)

    async def notification_preferences(info: Info) -> NotificationPreferences:
        return NotificationPreferences.of(await commands(info).preferences(info.context.viewer))

    return {
        "notifications": strawberry.field(
            resolver=notifications, description="Your notifications, newest first (unreadOnly: the unread ones)."
        ),
        "notification_preferences": strawberry.field(
            resolver=notification_preferences, description="Which kinds reach you, and whether by e-mail."
        ),
        "follow_up_settings": follow_ups.QUERY,
    }


notification_mutations = mutation_fields(
    (mark_notifications_read.MUTATION, update_notification_preferences.MUTATION, update_follow_up_settings.MUTATION)
)


def notification_subscriptions(_: EntitySchemaFactory) -> dict[str, Any]:
    async def notification_received(info: Info) -> AsyncGenerator[Notification, None]:
        context = info.context
        async for made in watch(context.notification_feed, context.viewer):
            yield Notification.of(made)

    return {
        "notification_received": strawberry.subscription(
            resolver=notification_received, description="Your notifications as they are made (a bell's)."
        )
    }


NOTIFICATION_SCHEMA = DomainSchema(
    name="notification",
    type_fields={"Document": follow_ups.DOCUMENT_FIELDS, "WorkflowStep": follow_ups.STEP_FIELDS},
    queries=notification_queries,
    mutations=notification_mutations,
    subscriptions=notification_subscriptions,
    types=(Notification,),
)

__all__ = ["NOTIFICATION_SCHEMA"]
