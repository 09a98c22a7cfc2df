"""In-app notifications through a real worker process and the real app over WebSocket: HR's
bell hears of a document waiting for review the moment the worker makes the notification;
the inbox pages and marks read (only one's own); preferences mute a kind in the app and by
mail; the consumer run again for an event makes nothing more."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from adapters.jobs import notifications as consumer
from adapters.sql import outbox
from app.database import driver_dsn
from domains.kernel.ids import to_global_id
from tests.api.reviews import SUBMITTED, review
from tests.api.ws import Socket
from tests.integration import test_jobs_process as process
from tests.integration.test_jobs_process import Inbox, _document_of, _eventually

# the process tests' fixtures: a clean queue, an SMTP server (aiosmtpd), worker processes
clean_queue, smtp, workers = process.clean_queue, process.smtp, process.workers

pytestmark = pytest.mark.timeout(120)

BELL = "subscription { notificationReceived { id kind text subjectType subjectId read } }"
INBOX = """query($unread: Boolean!, $after: String) { notifications(first: 1, unreadOnly: $unread, after: $after) {
  unreadCount edges { cursor node { id kind subjectId read readAt } } pageInfo { hasNextPage endCursor } } }"""
MARK = """mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { __typename
  ... on MarkNotificationsReadPayload { unreadCount notifications { id read } } ... on Error { code message } } }"""
PREFER = """mutation($muted: [NotificationKind!], $email: Boolean) {
  updateNotificationPreferences(input: { mutedKinds: $muted, email: $email }) { __typename
  ... on NotificationPreferencesPayload { preferences { mutedKinds email } } ... on Error { code message } } }"""


async def _settled(database_url: str) -> None:
    """Every consumer has read the outbox to its end, and no job is left to run."""
    conn = await asyncpg.connect(driver_dsn(database_url))
    try:

        async def done() -> bool:
            behind = await conn.fetchval(
                "SELECT count(*) FROM relay_cursors WHERE last_event_id < (SELECT max(id) FROM events)"
            )
            left = await conn.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
            return int(behind) == 0 and int(left) == 0

        await _eventually(done, what="the consumers to settle")
    finally:
        await conn.close()


async def _notifications(container: Any) -> list[Any]:
    async with container.engine.connect() as conn:
        return list((await conn.execute(sa.text("SELECT * FROM notifications ORDER BY id"))).mappings())


async def test_a_notification_reaches_a_subscribed_socket_and_the_inbox(
    gql: Any, live_server: Any, clean_queue: None, smtp: tuple[Inbox, int], workers: Any, database_url: str
) -> None:
    demo = gql.demo
    container = demo.container
    inbox, _ = smtp
    alice = demo.principal("alice@acme.example")
    workers(REMINDER_DAYS_BEFORE="[]")
    document_id = await _document_of(container, "alice@acme.example")
    feed = live_server.container.events
    async with await Socket.open(live_server.url, demo.token("hr@acme.example")) as bell:
        await bell.acknowledged()
        before = feed.subscribers
        await bell.start(BELL)
        await _eventually(lambda: feed.subscribers > before, what="the bell to listen")
        await review(container, alice, document_id, SUBMITTED)
        _, payload = await bell.next_payload(timeout=30)
    heard = payload["data"]["notificationReceived"]
    assert heard["kind"] == "REVIEW_WAITING" and heard["read"] is False
    assert (heard["subjectType"], heard["subjectId"]) == ("Document", to_global_id("Document", document_id))
    assert "Passport" not in heard["text"] and "Employment" not in heard["text"]

    body = await gql(INBOX, {"unread": True}, as_user="hr@acme.example")
    page = body["data"]["notifications"]
    assert page["unreadCount"] == 1 and [e["node"]["id"] for e in page["edges"]] == [heard["id"]]
    assert page["pageInfo"] == {"hasNextPage": False, "endCursor": page["edges"][0]["cursor"]}
    assert body["extensions"]["sql"]["statements"] == 3  # the signed-in user, the page, the unread count
    assert (await gql.data(INBOX, {"unread": True}, as_user="alice@acme.example"))["notifications"]["edges"] == []

    # only one's own: another person's id is as absent as a missing one, and nothing changes
    refused = (await gql.data(MARK, {"ids": [heard["id"]]}, as_user="alice@acme.example"))["markNotificationsRead"]
    assert refused["code"] == "NOT_FOUND"
    bad = (await gql.data(MARK, {"ids": ["nope"]}, as_user="hr@acme.example"))["markNotificationsRead"]
    assert bad["__typename"] == "ValidationError"
    assert (await _notifications(container))[0]["read_at"] is None
    marked = (await gql.data(MARK, {"ids": [heard["id"]]}, as_user="hr@acme.example"))["markNotificationsRead"]
    assert marked == {
        "__typename": "MarkNotificationsReadPayload",
        "unreadCount": 0,
        "notifications": [{"id": heard["id"], "read": True}],
    }
    assert (await gql.data(INBOX, {"unread": True}, as_user="hr@acme.example"))["notifications"]["edges"] == []
    assert len((await gql.data(INBOX, {"unread": False}, as_user="hr@acme.example"))["notifications"]["edges"]) == 1

    # the consumer run again for the same event makes nothing more, and announces nothing
    await _settled(database_url)
    (made,) = await _notifications(container)
    async with container.engine.connect() as conn:
        announced = (
            await conn.execute(sa.select(sa.func.count()).where(outbox.EVENTS.c.type == "NotificationCreated"))
        ).scalar_one()
    assert announced == 1
    conn2 = await asyncpg.connect(driver_dsn(database_url))
    try:
        await conn2.execute(
            "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 'hrgraph.notifications.on_event', 0, NULL, NULL,"
            " $1::jsonb, NULL)::procrastinate_job_to_defer_v1])",
            json.dumps({"event_id": made["event_id"]}),
        )
    finally:
        await conn2.close()
    await _settled(database_url)
    assert len(await _notifications(container)) == 1
    assert len(inbox.mails) == 1  # HR's review mail

    # HR mutes the kind: the next submission reaches HR neither in the app nor by mail
    muted = await gql.data(PREFER, {"muted": ["REVIEW_WAITING"]}, as_user="hr@acme.example")
    assert muted["updateNotificationPreferences"]["preferences"] == {"mutedKinds": ["REVIEW_WAITING"], "email": True}
    other = await _other_document(container, "alice@acme.example", document_id)
    await review(container, alice, other, SUBMITTED)
    await _settled(database_url)
    assert len(await _notifications(container)) == 1 and len(inbox.mails) == 1


async def _other_document(container: Any, email: str, not_this: uuid.UUID) -> uuid.UUID:
    async with container.engine.connect() as conn:
        found = await conn.execute(
            sa.text(
                "SELECT d.id FROM documents d JOIN users u ON u.id = d.owner_id"
                " WHERE u.email = :e AND d.status = 'REQUESTED' AND d.id <> :n ORDER BY d.title LIMIT 1"
            ),
            {"e": email, "n": not_this},
        )
        return uuid.UUID(str(found.scalar_one()))


async def test_mail_off_keeps_the_in_app_notification(
    gql: Any, clean_queue: None, smtp: tuple[Inbox, int], workers: Any, database_url: str
) -> None:
    demo = gql.demo
    inbox, _ = smtp
    off = await gql.data(PREFER, {"email": False}, as_user="hr@acme.example")
    assert off["updateNotificationPreferences"]["preferences"] == {"mutedKinds": [], "email": False}
    unknown = await gql(PREFER, {"muted": ["NOPE"]}, as_user="hr@acme.example")
    assert unknown["errors"]  # not a kind: refused by the schema, nothing saved
    workers(REMINDER_DAYS_BEFORE="[]")
    document_id = await _document_of(demo.container, "alice@acme.example")
    await review(demo.container, demo.principal("alice@acme.example"), document_id, SUBMITTED)
    await _settled(database_url)
    assert [n["kind"] for n in await _notifications(demo.container)] == ["REVIEW_WAITING"]
    assert inbox.mails == []


def test_the_consumer_writes_the_outbox_as_its_writers_do() -> None:
    assert (consumer.OUTBOX_LOCK, consumer.NOTIFY_CHANNEL) == (outbox.OUTBOX_LOCK, outbox.NOTIFY_CHANNEL)
