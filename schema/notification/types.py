"""GraphQL types of in-app notifications: a notification, a page of them, the preferences."""

from __future__ import annotations

import base64
import datetime
import uuid
from typing import Any

import strawberry

from domains.notification.inbox import Notification as DomainNotification
from domains.notification.inbox import NotificationCommands, NotificationPage, Preferences, cursor_of, global_id
from domains.notification.inbox import NotificationKind as DomainKind
from schema.context import Info

NotificationKind: Any = strawberry.enum(DomainKind, name="NotificationKind", description="What a notification tells.")


def commands(info: Info) -> NotificationCommands:
    return info.context.commands.notification


def subject_global_id(type_name: str, id: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{id}".encode()).decode()


@strawberry.type(description="Something that happened for you: what, about which record, read or not.")
class Notification:
    id: strawberry.ID
    kind: NotificationKind
    text: str = strawberry.field(description="One sentence, the kind's: no document content.")
    subject_type: str = strawberry.field(description="The type of what it is about: Document, WebhookEndpoint.")
    subject_id: strawberry.ID = strawberry.field(description="The global id of what it is about (open it there).")
    event_id: strawberry.ID = strawberry.field(description="The event it was made from.")
    created_at: datetime.datetime
    read_at: datetime.datetime | None
    read: bool

    @classmethod
    def of(cls, notification: DomainNotification) -> Notification:
        return cls(
            id=strawberry.ID(global_id(notification.id)),
            kind=notification.kind,
            text=notification.text,
            subject_type=notification.subject_type,
            subject_id=strawberry.ID(subject_global_id(notification.subject_type, notification.subject_id)),
            event_id=strawberry.ID(str(notification.event_id)),
            created_at=notification.created_at,
            read_at=notification.read_at,
            read=notification.read_at is not None,
        )


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type(description="Whether more notifications follow, and the cursor to ask for them.")
class NotificationPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="Your notifications, newest first, and how many are unread in all.")
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: NotificationPageInfo
    unread_count: int

    @classmethod
    def of(cls, page: NotificationPage) -> NotificationConnection:
        edges = [NotificationEdge(cursor=cursor_of(n), node=Notification.of(n)) for n in page.items]
        return cls(
            edges=edges,
            page_info=NotificationPageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
            unread_count=page.unread,
        )


@strawberry.type(description="Which kinds reach you, and whether by e-mail too.")
class NotificationPreferences:
    muted_kinds: list[NotificationKind] = strawberry.field(description="Kinds you get neither in the app nor by mail.")
    email: bool = strawberry.field(description="Mails at all (the in-app ones come either way).")

    @classmethod
    def of(cls, preferences: Preferences) -> NotificationPreferences:
        return cls(muted_kinds=sorted(preferences.muted, key=lambda k: str(k.value)), email=preferences.email)
