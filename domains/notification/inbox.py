"""In-app notifications: each person's inbox, read and marked read by its owner alone, and the
preferences that say which kinds reach them and whether by e-mail too.

A notification is made by the notifications consumer of the job queue from a committed event
(once per event and person), and links to what it is about by the entity's global id. Its
text is the kind's sentence: no document content, no rejection reason.
"""

from __future__ import annotations

import base64
import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domains.kernel.errors import Invalid, NotFound
from domains.kernel.principal import Principal
from domains.kernel.unit_of_work import Transactional

MAX_PAGE = 100
MAX_MARKED = 100
CREATED = "NotificationCreated"
"""The outbox event the consumer writes for each notification it makes: what the live
subscription reads (payload: the notification's fields, ids only)."""
AGGREGATE = "notification"


class NotificationKind(enum.Enum):
    REVIEW_WAITING = "REVIEW_WAITING"
    DOCUMENT_REJECTED = "DOCUMENT_REJECTED"
    DOCUMENT_DUE = "DOCUMENT_DUE"
    OVERDUE_ESCALATED = "OVERDUE_ESCALATED"
    WEBHOOK_DISABLED = "WEBHOOK_DISABLED"
    STEP_DUE = "STEP_DUE"
    STEP_ESCALATED = "STEP_ESCALATED"


TEXT: Mapping[NotificationKind, str] = {
    NotificationKind.REVIEW_WAITING: "A document waits for your review.",
    NotificationKind.DOCUMENT_REJECTED: "Your document was rejected: open it to see why and hand in a new file.",
    NotificationKind.DOCUMENT_DUE: "A document of yours is due soon.",
    NotificationKind.OVERDUE_ESCALATED: "Someone's document is overdue and was escalated to you.",
    NotificationKind.WEBHOOK_DISABLED: "A webhook endpoint kept failing and was disabled.",
    NotificationKind.STEP_DUE: "A workflow step waiting on you is due soon.",
    NotificationKind.STEP_ESCALATED: "A workflow step is overdue and was escalated to you.",
}


@dataclass(frozen=True)
class Notification:
    id: int
    user_id: uuid.UUID
    company_id: uuid.UUID
    kind: NotificationKind
    event_id: int
    subject_type: str
    subject_id: uuid.UUID
    created_at: datetime
    read_at: datetime | None = None

    @property
    def text(self) -> str:
        return TEXT[self.kind]

    def payload(self) -> dict[str, Any]:
        """The ``NotificationCreated`` event's payload (JSON-ready)."""
        return {
            "notificationId": self.id,
            "userId": str(self.user_id),
            "companyId": str(self.company_id),
            "kind": self.kind.value,
            "eventId": self.event_id,
            "subjectType": self.subject_type,
            "subjectId": str(self.subject_id),
            "createdAt": self.created_at.isoformat(),
        }

    @classmethod
    def of_payload(cls, payload: Mapping[str, Any]) -> Notification:
        return cls(
            id=int(payload["notificationId"]),
            user_id=uuid.UUID(str(payload["userId"])),
            company_id=uuid.UUID(str(payload["companyId"])),
            kind=NotificationKind(payload["kind"]),
            event_id=int(payload["eventId"]),
            subject_type=str(payload["subjectType"]),
            subject_id=uuid.UUID(str(payload["subjectId"])),
            created_at=datetime.fromisoformat(str(payload["createdAt"])),
        )


@dataclass(frozen=True)
class Preferences:
    """``muted``: kinds that reach the person neither in the app nor by mail; ``email``: mails at all."""

    muted: frozenset[NotificationKind] = frozenset()
    email: bool = True


@dataclass(frozen=True)
class NotificationPage:
    items: Sequence[Notification]
    has_next: bool
    unread: int


class NotificationStore(Protocol):
    async def page(
        self, user_id: uuid.UUID, before_id: int | None, limit: int, unread_only: bool
    ) -> Sequence[Notification]:
        """The person's notifications newest first, with ids below ``before_id``; ``limit`` at most."""
        ...

    async def unread(self, user_id: uuid.UUID) -> int: ...

    async def mark_read(self, user_id: uuid.UUID, ids: Sequence[int]) -> Sequence[Notification]:
        """Marks those of ``ids`` that are the person's; returns them (the others are not theirs)."""
        ...

    async def preferences(self, user_id: uuid.UUID) -> Preferences: ...

    async def save_preferences(self, user_id: uuid.UUID, company_id: uuid.UUID, preferences: Preferences) -> None: ...


def global_id(id: int) -> str:
    return base64.b64encode(f"Notification:{id}".encode()).decode()


def parse_global_id(value: str, argument: str = "ids") -> int:
    try:
        type_name, _, raw = base64.b64decode(value, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise Invalid.field(argument, "is not a notification id") from None
    if type_name != "Notification" or not raw.isdigit() or len(raw) > 18:
        raise Invalid.field(argument, "is not a notification id")
    return int(raw)


def cursor_of(notification: Notification) -> str:
    return base64.b64encode(f"n:{notification.id}".encode()).decode()


def _read_cursor(cursor: str) -> int:
    try:
        prefix, _, raw = base64.b64decode(cursor, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise Invalid.field("after", "is not a valid cursor for this list") from None
    if prefix != "n" or not raw.isdigit() or len(raw) > 18:
        raise Invalid.field("after", "is not a valid cursor for this list")
    return int(raw)


def kinds_of(names: Iterable[str]) -> frozenset[NotificationKind]:
    try:
        return frozenset(NotificationKind(n) for n in names)
    except ValueError:
        known = ", ".join(k.value for k in NotificationKind)
        raise Invalid.field("mutedKinds", f"holds an unknown kind (known: {known})") from None


class NotificationCommands:
    """Everything here is the viewer's own: nobody reads or marks another person's inbox."""

    def __init__(self, store: NotificationStore, uow: Transactional) -> None:
        self.store = store
        self.uow = uow

    async def page(self, viewer: Principal, first: int, after: str | None, unread_only: bool) -> NotificationPage:
        if first < 1 or first > MAX_PAGE:
            raise Invalid.field("first", f"must be between 1 and {MAX_PAGE}")
        before = _read_cursor(after) if after is not None else None
        found = list(await self.store.page(viewer.user_id, before, first + 1, unread_only))
        return NotificationPage(found[:first], len(found) > first, await self.store.unread(viewer.user_id))

    async def unread(self, viewer: Principal) -> int:
        return await self.store.unread(viewer.user_id)

    async def mark_read(self, viewer: Principal, ids: Sequence[int]) -> Sequence[Notification]:
        if not ids:
            raise Invalid.field("ids", "must name at least one notification")
        if len(ids) > MAX_MARKED:
            raise Invalid.field("ids", f"may name at most {MAX_MARKED} notifications")
        async with self.uow.transaction():
            marked = await self.store.mark_read(viewer.user_id, sorted(set(ids)))
            missing = set(ids) - {n.id for n in marked}
            if missing:
                # another person's is as absent as a missing one; the unit of work rolls back the rest
                raise NotFound("Notification", global_id(min(missing)))
            return marked

    async def preferences(self, viewer: Principal) -> Preferences:
        return await self.store.preferences(viewer.user_id)

    async def set_preferences(self, viewer: Principal, muted: Iterable[str] | None, email: bool | None) -> Preferences:
        async with self.uow.transaction():
            current = await self.store.preferences(viewer.user_id)
            updated = Preferences(
                muted=current.muted if muted is None else kinds_of(muted),
                email=current.email if email is None else email,
            )
            await self.store.save_preferences(viewer.user_id, viewer.company_id, updated)
            return updated


@dataclass(frozen=True)
class InAppRule:
    """Who gets a notification of ``kind`` for an event, and what it is about (the entity type
    and the payload key holding its id). ``audience`` is a ``mail.Audience`` name."""

    kind: NotificationKind
    audience: str
    subject_type: str
    subject_key: str


IN_APP: Mapping[str, InAppRule] = {
    "DocumentSubmitted": InAppRule(NotificationKind.REVIEW_WAITING, "COMPANY_HR", "Document", "documentId"),
    "DocumentRejected": InAppRule(NotificationKind.DOCUMENT_REJECTED, "DOCUMENT_OWNER", "Document", "documentId"),
    "DocumentEscalated": InAppRule(NotificationKind.OVERDUE_ESCALATED, "NAMED", "Document", "documentId"),
    "WorkflowStepEscalated": InAppRule(NotificationKind.STEP_ESCALATED, "NAMED", "Workflow", "workflowId"),
    "WebhookEndpointDisabled": InAppRule(
        NotificationKind.WEBHOOK_DISABLED, "COMPANY_HR", "WebhookEndpoint", "endpointId"
    ),
}
"""The events that make in-app notifications (the notifications consumer's event types)."""
