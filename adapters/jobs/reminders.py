"""Reminders before due dates, on the (movable) clock.

A scan finds each document still to hand in whose reminder day has come (``days`` before its
due date, up to the date itself: a worker that was down catches up) and, in one transaction,
claims the reminder (a receipt keyed by document, due date and days: only one worker's claim
succeeds) and enqueues its mail job. A moved due date is a new key, so it is reminded again
on its own schedule; a document handed in or approved no longer matches the scan. A company may
set its own days (``company_follow_up_settings``); the others have the setting's. A reminder
sent is the document's ``remindedAt`` (its follow-up, ``follow_ups``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from psycopg_pool import AsyncConnectionPool

from adapters.jobs.mail import Mailer, message
from domains.notification.mail import EXPIRING_STATUSES, REMINDED_STATUSES, expiry_reminder, reminder

CONSUMER = "reminder"
EXPIRY_CONSUMER = "expiry-reminder"


async def scan(pool: AsyncConnectionPool, today: date, days: Sequence[int], task: str, queue: str = "default") -> int:
    """Claims the reminders due today and enqueues their mails; how many. ``days``: the
    default, for companies without days of their own (``company_follow_up_settings``)."""
    return await _scan(pool, today, days, task, queue, "due_on", CONSUMER, REMINDED_STATUSES, company_days=True)


async def scan_expiry(
    pool: AsyncConnectionPool, today: date, days: Sequence[int], task: str, queue: str = "default"
) -> int:
    """The same for expiry dates: the reminders before a document expires (owner and HR), on
    the setting's days (a company's own days are for due dates)."""
    return await _scan(pool, today, days, task, queue, "expires_on", EXPIRY_CONSUMER, EXPIRING_STATUSES)


async def _scan(
    pool: AsyncConnectionPool,
    today: date,
    days: Sequence[int],
    task: str,
    queue: str,
    column: str,
    consumer: str,
    statuses: Sequence[str],
    *,
    company_days: bool = False,
) -> int:
    assert column in ("due_on", "expires_on")  # a column name, never input
    claimed = 0
    default = sorted(set(days))
    async with pool.connection() as conn, conn.transaction():
        own = []
        if company_days:
            found = await conn.execute("SELECT DISTINCT unnest(reminder_days) FROM company_follow_up_settings")
            own = await found.fetchall()
        for before in sorted({*default, *(row[0] for row in own)}):
            # the nearest first: a later-day reminder makes an earlier one moot
            rows = await (
                await conn.execute(
                    "INSERT INTO consumer_receipts (consumer, event_id, key)"
                    f" SELECT %s, 0, d.id::text || ':' || d.{column}::text || ':' || %s::text"
                    " FROM documents d JOIN users u ON u.id = d.owner_id"
                    " LEFT JOIN company_follow_up_settings s ON s.company_id = d.company_id"
                    " WHERE d.deleted_at IS NULL AND u.deleted_at IS NULL AND d.status = ANY (%s)"
                    f" AND %s = ANY ({'coalesce(s.reminder_days, %s::int[])' if company_days else '%s::int[]'})"
                    f" AND d.{column} IS NOT NULL AND d.{column} - %s <= %s AND d.{column} >= %s"
                    # none when a nearer one is claimed (a worker down for days sends one, not two)
                    " AND NOT EXISTS (SELECT 1 FROM consumer_receipts r WHERE r.consumer = %s"
                    f"   AND r.key LIKE d.id::text || ':' || d.{column}::text || ':%%'"
                    "   AND split_part(r.key, ':', 3)::int <= %s)"
                    " ON CONFLICT DO NOTHING RETURNING key",
                    (consumer, before, list(statuses), before, default, before, today, today, consumer, before),
                )
            ).fetchall()
            for (key,) in rows:
                document_id, day, _ = key.split(":")
                args = json.dumps({"document_id": document_id, column: day})
                await conn.execute(
                    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, NULL, NULL, %s::jsonb, NULL)"
                    "::procrastinate_job_to_defer_v1])",
                    (queue, task, args),
                )
            claimed += len(rows)
    return claimed


async def send(
    pool: AsyncConnectionPool, mailer: Mailer, document_id: str, due_on: date, today: date, *, sender: str, app_url: str
) -> bool:
    """Mails the owner, unless the document was handed in (or deleted) since the claim."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT d.kind, u.email, coalesce(p.email, true) AND NOT ('DOCUMENT_DUE' = ANY"
                " (coalesce(p.muted_kinds, '{}')))"
                " FROM documents d JOIN users u ON u.id = d.owner_id"
                " LEFT JOIN notification_preferences p ON p.user_id = u.id"
                " WHERE d.id = %s AND d.deleted_at IS NULL AND u.deleted_at IS NULL AND d.status = ANY (%s)"
                " AND d.due_on = %s",
                (document_id, list(REMINDED_STATUSES), due_on),
            )
        ).fetchone()
    if row is None:
        return False
    await _record_reminded(pool, document_id)
    if not row[2]:  # the owner turned reminders (or mail) off
        return False
    mail = reminder(row[0], document_id, due_on, today, app_url)
    key = f"{document_id}:{due_on.isoformat()}:{(due_on - today).days}"
    built = message(mail, sender=sender, to=row[1], event_id=0)
    del built["Message-ID"]
    built["Message-ID"] = f"<reminder.{key.replace(':', '.')}@hr-graph>"
    await mailer.send(built)
    return True


async def _record_reminded(pool: AsyncConnectionPool, document_id: str) -> None:
    """The document's ``remindedAt`` (its follow-up, for this due date)."""
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO follow_ups (target_type, target_id, company_id, due_on, reminded_at)"
            " SELECT 'DOCUMENT', d.id, d.company_id, d.due_on, now() FROM documents d WHERE d.id = %s"
            " ON CONFLICT (target_type, target_id) DO UPDATE SET reminded_at = now(), updated_at = now(),"
            "   due_on = excluded.due_on,"
            "   escalated_at = CASE WHEN follow_ups.due_on = excluded.due_on THEN follow_ups.escalated_at END,"
            "   escalation_stage = CASE WHEN follow_ups.due_on = excluded.due_on"
            "     THEN follow_ups.escalation_stage ELSE 0 END",
            (document_id,),
        )


async def send_expiry(
    pool: AsyncConnectionPool,
    mailer: Mailer,
    document_id: str,
    expires_on: date,
    today: date,
    *,
    sender: str,
    app_url: str,
) -> int:
    """Mails the owner and the company's HR that the document expires soon; how many mails."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT d.kind, u.email, d.company_id FROM documents d JOIN users u ON u.id = d.owner_id"
                " WHERE d.id = %s AND d.deleted_at IS NULL AND u.deleted_at IS NULL AND d.status = ANY (%s)"
                " AND d.expires_on = %s",
                (document_id, list(EXPIRING_STATUSES), expires_on),
            )
        ).fetchone()
        if row is None:
            return 0
        hr = await (
            await conn.execute(
                "SELECT email FROM users WHERE company_id = %s AND role = 'HR' AND deleted_at IS NULL ORDER BY email",
                (row[2],),
            )
        ).fetchall()
    mail = expiry_reminder(row[0], document_id, expires_on, today, app_url)
    key = f"expiry.{document_id}.{expires_on.isoformat()}.{(expires_on - today).days}"
    recipients = [row[1], *(r[0] for r in hr if r[0] != row[1])]
    for to in recipients:
        built = message(mail, sender=sender, to=to, event_id=0)
        del built["Message-ID"]
        built["Message-ID"] = f"<{key}.{to.replace('@', '.')}@hr-graph>"
        await mailer.send(built)
    return len(recipients)
