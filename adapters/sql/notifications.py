"""In-app notifications and their preferences (migration 0010), and the ``NotificationStore``
port on them.

``adapters/jobs`` writes notifications with raw SQL (adapter packages stay independent): the
shape of these tables is the published contract between the two.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert

from adapters.sql.database import RequestDatabase
from domains.notification.follow_ups import FollowUp, FollowUpSettings
from domains.notification.inbox import Notification, NotificationKind, Preferences

_metadata = sa.MetaData()

NOTIFICATIONS = sa.Table(
    "notifications",
    _metadata,
    sa.Column("id", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
    sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("company_id", sa.Uuid(), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("event_id", sa.BigInteger(), nullable=False),
    sa.Column("subject_type", sa.String(64), nullable=False),
    sa.Column("subject_id", sa.Uuid(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
    # one per event, person and kind: the consumer run again for an event makes nothing more
    sa.UniqueConstraint("event_id", "user_id", "kind", name="notifications_event_id_user_id_kind_key"),
    sa.Index("ix_notifications_user_id_id", "user_id", "id"),
)

NOTIFICATION_PREFERENCES = sa.Table(
    "notification_preferences",
    _metadata,
    sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("company_id", sa.Uuid(), nullable=False),
    sa.Column("muted_kinds", ARRAY(sa.String(64)), nullable=False, server_default="{}"),
    sa.Column("email", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

FOLLOW_UPS = sa.Table(
    "follow_ups",
    _metadata,
    # what is followed up: a DOCUMENT (its own table is the document context's, not this one)
    sa.Column("target_type", sa.String(32), primary_key=True),
    sa.Column("target_id", sa.Uuid(), primary_key=True),
    sa.Column("company_id", sa.Uuid(), nullable=False),
    sa.Column("due_on", sa.Date(), nullable=False),
    sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("escalation_stage", sa.Integer(), nullable=False, server_default="0"),  # 1 manager, 2 HR
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

COMPANY_FOLLOW_UP_SETTINGS = sa.Table(
    "company_follow_up_settings",
    _metadata,
    sa.Column("company_id", sa.Uuid(), sa.ForeignKey("companies.id"), primary_key=True),
    sa.Column("reminder_days", ARRAY(sa.Integer()), nullable=False),
    sa.Column("escalate_after_days", sa.Integer(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

NOTIFICATION_TABLES = (NOTIFICATIONS, NOTIFICATION_PREFERENCES, FOLLOW_UPS, COMPANY_FOLLOW_UP_SETTINGS)


def _notification(row: Any) -> Notification:
    return Notification(
        id=row.id,
        user_id=row.user_id,
        company_id=row.company_id,
        kind=NotificationKind(row.kind),
        event_id=row.event_id,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        created_at=row.created_at,
        read_at=row.read_at,
    )


class SqlNotificationStore:
    def __init__(self, db: RequestDatabase) -> None:
        self.db = db

    async def page(
        self, user_id: uuid.UUID, before_id: int | None, limit: int, unread_only: bool
    ) -> Sequence[Notification]:
        t = NOTIFICATIONS
        query = sa.select(t).where(t.c.user_id == user_id).order_by(t.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(t.c.id < before_id)
        if unread_only:
            query = query.where(t.c.read_at.is_(None))
        return [_notification(row) for row in await self.db.execute(query)]

    async def unread(self, user_id: uuid.UUID) -> int:
        t = NOTIFICATIONS
        query = sa.select(sa.func.count()).where(t.c.user_id == user_id, t.c.read_at.is_(None))
        return int((await self.db.execute(query)).scalar_one())

    async def mark_read(self, user_id: uuid.UUID, ids: Sequence[int]) -> Sequence[Notification]:
        t = NOTIFICATIONS
        query = (
            sa.update(t)
            .where(t.c.user_id == user_id, t.c.id.in_(ids))
            .values(read_at=sa.func.coalesce(t.c.read_at, sa.func.now()))
            .returning(*t.c)
        )
        return sorted((_notification(row) for row in await self.db.execute(query)), key=lambda n: -n.id)

    async def preferences(self, user_id: uuid.UUID) -> Preferences:
        t = NOTIFICATION_PREFERENCES
        row = (await self.db.execute(sa.select(t.c.muted_kinds, t.c.email).where(t.c.user_id == user_id))).first()
        if row is None:
            return Preferences()
        return Preferences(muted=frozenset(NotificationKind(k) for k in row.muted_kinds), email=row.email)

    async def save_preferences(self, user_id: uuid.UUID, company_id: uuid.UUID, preferences: Preferences) -> None:
        t = NOTIFICATION_PREFERENCES
        values = {"muted_kinds": sorted(k.value for k in preferences.muted), "email": preferences.email}
        statement = insert(t).values(user_id=user_id, company_id=company_id, **values)
        await self.db.execute(
            statement.on_conflict_do_update(index_elements=[t.c.user_id], set_={**values, "updated_at": sa.func.now()})
        )


class SqlFollowUpStore:
    def __init__(self, db: RequestDatabase) -> None:
        self.db = db

    async def follow_ups(self, target_type: str, ids: Sequence[uuid.UUID]) -> Mapping[uuid.UUID, FollowUp]:
        t = FOLLOW_UPS
        query = sa.select(t).where(t.c.target_type == target_type, t.c.target_id.in_(ids))
        return {
            row.target_id: FollowUp(row.target_id, row.due_on, row.reminded_at, row.escalated_at, row.escalation_stage)
            for row in await self.db.execute(query)
        }

    async def settings(self, company_id: uuid.UUID) -> FollowUpSettings | None:
        t = COMPANY_FOLLOW_UP_SETTINGS
        row = (
            await self.db.execute(
                sa.select(t.c.reminder_days, t.c.escalate_after_days).where(t.c.company_id == company_id)
            )
        ).first()
        if row is None:
            return None
        return FollowUpSettings(tuple(row.reminder_days), row.escalate_after_days, own=True)

    async def save_settings(self, company_id: uuid.UUID, settings: FollowUpSettings) -> None:
        t = COMPANY_FOLLOW_UP_SETTINGS
        values = {"reminder_days": list(settings.reminder_days), "escalate_after_days": settings.escalate_after_days}
        statement = insert(t).values(company_id=company_id, **values)
        await self.db.execute(
            statement.on_conflict_do_update(
                index_elements=[t.c.company_id], set_={**values, "updated_at": sa.func.now()}
            )
        )
