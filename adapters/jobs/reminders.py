"""Reminders before due dates, on the (movable) clock.

A scan finds each target still to act on (a document to hand in, a workflow's open task or
approval) whose reminder day has come (``days`` before its due date, up to the date itself: a
worker that was down catches up) and, in one transaction, claims the reminder (a receipt keyed
by target, due date and days: only one worker's claim succeeds) and enqueues its mail job. A
moved due date is a new key, so it is reminded again on its own schedule; a document handed in
or a step finished no longer matches the scan. A company may set its own days
(``company_follow_up_settings``); the others have the setting's. A reminder sent is the
target's ``remindedAt`` (its follow-up, ``follow_ups``, keyed by target type and id).

One scan serves every target: a ``Target`` says where its rows are and when one is still open.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from psycopg_pool import AsyncConnectionPool

from adapters.jobs.mail import Mailer, message
from adapters.jobs.notifications import recipients
from domains.notification.mail import (
    EXPIRING_STATUSES,
    REMINDED_STATUSES,
    expiry_reminder,
    reminder,
    step_reminder,
)
from domains.workflow.model import ACTIVE, AssigneeGroup, StepKind, StepStatus

CONSUMER = "reminder"
EXPIRY_CONSUMER = "expiry-reminder"
STEP_CONSUMER = "step-reminder"
STEP_DUE = "STEP_DUE"


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # constants of the code, never input


@dataclass(frozen=True)
class Target:
    """What a scan reminds of. ``source`` is its rows (aliased ``d``, with ``d.id``,
    ``d.company_id`` and the due column), ``open`` when one is still someone's to act on, and
    ``job_arg`` the name of its id among the mail job's arguments."""

    type: str
    consumer: str
    table: str
    source: str
    open: str
    job_arg: str


DOCUMENTS = Target(
    "DOCUMENT",
    CONSUMER,
    "documents",
    "documents d JOIN users u ON u.id = d.owner_id",
    f"d.deleted_at IS NULL AND u.deleted_at IS NULL AND d.status IN ({_quoted(REMINDED_STATUSES)})",
    "document_id",
)
EXPIRING_DOCUMENTS = Target(
    "DOCUMENT",
    EXPIRY_CONSUMER,
    "documents",
    DOCUMENTS.source,
    f"d.deleted_at IS NULL AND u.deleted_at IS NULL AND d.status IN ({_quoted(EXPIRING_STATUSES)})",
    "document_id",
)
STEPS = Target(
    "WORKFLOW_STEP",
    STEP_CONSUMER,
    "workflow_steps",
    "workflow_steps d JOIN workflows w ON w.id = d.workflow_id JOIN users u ON u.id = d.subject_id",
    # an open task or approval of a running workflow (a document step is its document's to remind)
    f"d.deleted_at IS NULL AND w.deleted_at IS NULL AND u.deleted_at IS NULL"
    f" AND d.status = '{StepStatus.PENDING.value}'"
    f" AND d.kind IN ({_quoted([StepKind.TASK.value, StepKind.APPROVAL.value])})"
    f" AND w.status IN ({_quoted([s.value for s in ACTIVE])})",
    "step_id",
)


async def scan(
    pool: AsyncConnectionPool,
    today: date,
    days: Sequence[int],
    task: str,
    queue: str = "default",
    target: Target = DOCUMENTS,
) -> int:
    """Claims the reminders due today and enqueues their mails; how many. ``days``: the
    default, for companies without days of their own (``company_follow_up_settings``)."""
    return await _scan(pool, today, days, task, queue, "due_on", target, company_days=True)


async def scan_expiry(
    pool: AsyncConnectionPool, today: date, days: Sequence[int], task: str, queue: str = "default"
) -> int:
    """The same for expiry dates: the reminders before a document expires (owner and HR), on
    the setting's days (a company's own days are for due dates)."""
    return await _scan(pool, today, days, task, queue, "expires_on", EXPIRING_DOCUMENTS)


async def _scan(
    pool: AsyncConnectionPool,
    today: date,
    days: Sequence[int],
    task: str,
    queue: str,
    column: str,
    target: Target,
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
                    " SELECT %(consumer)s::text, 0,"
                    f" d.id::text || ':' || d.{column}::text || ':' || %(before)s::int::text"
                    f" FROM {target.source}"
                    " LEFT JOIN company_follow_up_settings s ON s.company_id = d.company_id"
                    f" WHERE {target.open}"
                    " AND %(before)s::int = ANY ("
                    f"{'coalesce(s.reminder_days, %(default)s::int[])' if company_days else '%(default)s::int[]'})"
                    f" AND d.{column} IS NOT NULL AND d.{column} - %(before)s::int <= %(today)s::date"
                    f" AND d.{column} >= %(today)s::date"
                    # none when a nearer one is claimed (a worker down for days sends one, not two)
                    " AND NOT EXISTS (SELECT 1 FROM consumer_receipts r WHERE r.consumer = %(consumer)s::text"
                    f"   AND r.key LIKE d.id::text || ':' || d.{column}::text || ':%%'"
                    "   AND split_part(r.key, ':', 3)::int <= %(before)s::int)"
                    " ON CONFLICT DO NOTHING RETURNING key",
                    {"consumer": target.consumer, "before": before, "default": default, "today": today},
                )
            ).fetchall()
            for (key,) in rows:
                target_id, day, _ = key.split(":")
                args = json.dumps({target.job_arg: target_id, column: day})
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
    await _record_reminded(pool, DOCUMENTS, document_id)
    if not row[2]:  # the owner turned reminders (or mail) off
        return False
    mail = reminder(row[0], document_id, due_on, today, app_url)
    key = f"{document_id}:{due_on.isoformat()}:{(due_on - today).days}"
    built = message(mail, sender=sender, to=row[1], event_id=0)
    del built["Message-ID"]
    built["Message-ID"] = f"<reminder.{key.replace(':', '.')}@hr-graph>"
    await mailer.send(built)
    return True


async def _record_reminded(pool: AsyncConnectionPool, target: Target, target_id: str) -> None:
    """The target's ``remindedAt`` (its follow-up, for this due date)."""
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO follow_ups (target_type, target_id, company_id, due_on, reminded_at)"
            f" SELECT %s, d.id, d.company_id, d.due_on, now() FROM {target.table} d WHERE d.id = %s"
            " ON CONFLICT (target_type, target_id) DO UPDATE SET reminded_at = now(), updated_at = now(),"
            "   due_on = excluded.due_on,"
            "   escalated_at = CASE WHEN follow_ups.due_on = excluded.due_on THEN follow_ups.escalated_at END,"
            "   escalation_stage = CASE WHEN follow_ups.due_on = excluded.due_on"
            "     THEN follow_ups.escalation_stage ELSE 0 END",
            (target.type, target_id),
        )


async def send_step(
    pool: AsyncConnectionPool, mailer: Mailer, step_id: str, due_on: date, today: date, *, sender: str, app_url: str
) -> int:
    """Mails whoever the step waits on (its assignee, or the company's HR when it waits on the HR
    group), unless it was finished, moved or deleted since the claim; how many mails. Those who
    muted ``STEP_DUE`` or turned mail off get none."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                f"SELECT d.kind, d.workflow_id, d.company_id, d.assignee_id, d.assignee_group FROM {STEPS.source}"
                f" WHERE d.id = %s AND d.due_on = %s AND {STEPS.open}",
                (step_id, due_on),
            )
        ).fetchone()
        if row is None:
            return 0
        kind, workflow_id, company_id, assignee_id, group = row
        if group == AssigneeGroup.HR.value:
            audience, named = "COMPANY_HR", []
        else:
            audience, named = "NAMED", [str(assignee_id)] if assignee_id is not None else []
        people = await recipients(conn, audience, company_id, {"recipientIds": named}, STEP_DUE, by_mail=True)
    await _record_reminded(pool, STEPS, step_id)
    mail = step_reminder(kind, str(workflow_id), due_on, today, app_url)
    key = f"step.{step_id}.{due_on.isoformat()}.{(due_on - today).days}"
    for person_id, to in people:
        built = message(mail, sender=sender, to=to, event_id=0)
        del built["Message-ID"]
        built["Message-ID"] = f"<{key}.{uuid.UUID(str(person_id)).hex}@hr-graph>"
        await mailer.send(built)
    return len(people)


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
