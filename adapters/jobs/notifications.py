"""In-app notifications from events, and who receives what (shared with the mail consumer).

Idempotent by event id: a notification is unique per event, person and kind, and the
``NotificationCreated`` event that the live subscription reads is written in the same
transaction as the notification, only for the rows this run inserted. A job run again for
the same event (a worker killed mid-job) inserts nothing and announces nothing.

The outbox's ordering lock and channel are the SQL adapter's published contract
(``adapters/sql/outbox.py``; a test checks they agree): event writers commit in id order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from domains.notification.inbox import AGGREGATE, CREATED, IN_APP, Notification, NotificationKind

OUTBOX_LOCK = 0x68726772
NOTIFY_CHANNEL = "hrgraph_events"


def _payload(raw: Any) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


async def recipients(
    conn: AsyncConnection[Any],
    audience: str,
    company_id: uuid.UUID,
    payload: Mapping[str, Any],
    kind: str,
    *,
    by_mail: bool,
) -> list[tuple[uuid.UUID, str]]:
    """(id, e-mail) of the people an event is for, without those who muted ``kind`` (and, by
    mail, those who turned mail off), in e-mail order."""
    args: list[Any]
    if audience == "COMPANY_HR":
        where, args = "u.company_id = %s AND u.role = 'HR'", [company_id]
    elif audience == "DOCUMENT_OWNER":
        where, args = "u.id = %s", [uuid.UUID(str(payload["ownerId"]))]
    else:
        where, args = (
            "u.id = ANY (%s) AND u.company_id = %s",
            [
                [uuid.UUID(str(i)) for i in payload.get("recipientIds", ())],
                company_id,
            ],
        )
    mail = " AND coalesce(p.email, true)" if by_mail else ""
    rows = await (
        await conn.execute(
            "SELECT u.id, u.email FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id"
            f" WHERE u.deleted_at IS NULL AND {where}"
            f" AND NOT (%s = ANY (coalesce(p.muted_kinds, '{{}}'))){mail} ORDER BY u.email",
            (*args, kind),
        )
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


async def on_event(pool: AsyncConnectionPool, event_id: int) -> Sequence[Notification]:
    """Makes the event's notifications not yet made, and announces each; those made."""
    async with pool.connection() as conn, conn.transaction():
        event = await (
            await conn.execute("SELECT type, company_id, payload FROM events WHERE id = %s", (event_id,))
        ).fetchone()
        if event is None or event[0] not in IN_APP:
            return []
        rule = IN_APP[event[0]]
        company_id, payload = event[1], _payload(event[2])
        people = await recipients(conn, rule.audience, company_id, payload, rule.kind.value, by_mail=False)
        if not people:
            return []
        subject_id = uuid.UUID(str(payload[rule.subject_key]))
        rows = await (
            await conn.execute(
                "INSERT INTO notifications (user_id, company_id, kind, event_id, subject_type, subject_id)"
                " SELECT u, %s, %s, %s, %s, %s FROM unnest(%s::uuid[]) AS u"
                " ON CONFLICT DO NOTHING"
                " RETURNING id, user_id, company_id, kind, event_id, subject_type, subject_id, created_at",
                (company_id, rule.kind.value, event_id, rule.subject_type, subject_id, [p[0] for p in people]),
            )
        ).fetchall()
        made = [
            Notification(
                id=r[0],
                user_id=r[1],
                company_id=r[2],
                kind=NotificationKind(r[3]),
                event_id=r[4],
                subject_type=r[5],
                subject_id=r[6],
                created_at=r[7],
            )
            for r in sorted(rows)
        ]
        if made:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (OUTBOX_LOCK,))
            last = await (
                await conn.execute(
                    "INSERT INTO events (type, aggregate, aggregate_id, company_id, actor_id, payload, occurred_at)"
                    " SELECT %s, %s, n.user_id, n.company_id, NULL, n.payload, now()"
                    " FROM jsonb_to_recordset(%s::jsonb) AS n(user_id uuid, company_id uuid, payload jsonb)"
                    " RETURNING id",
                    (
                        CREATED,
                        AGGREGATE,
                        json.dumps(
                            [
                                {"user_id": str(n.user_id), "company_id": str(n.company_id), "payload": n.payload()}
                                for n in made
                            ]
                        ),
                    ),
                )
            ).fetchall()
            await conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(max(r[0] for r in last))))
        return made
