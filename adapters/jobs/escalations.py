"""Escalations of overdue documents and workflow steps, on the (movable) clock.

A document still to hand in, overdue by its company's ``escalate_after_days`` (default: the
setting), escalates to its owner's manager (HR when it has none); overdue twice as long, to the
company's HR. Each escalation is claimed once in the document's follow-up (``follow_ups``,
keyed by the document: its stage for its due date), and recorded as a ``DocumentEscalated``
event in the same transaction: the mail and notifications consumers tell the people it names.
Two workers scanning at once claim it once (the follow-up's row lock decides); a moved due date
starts the follow-up afresh; a document handed in (or approved) matches no more. A worker down
for longer than both delays escalates once, to HR.

A workflow's open task or approval escalates the same way, to its subject's manager then HR, as
a ``WorkflowStepEscalated`` event (its follow-up keyed ``WORKFLOW_STEP``): the one scan, given
the reminders' target for steps.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date

from psycopg_pool import AsyncConnectionPool

from adapters.jobs import reminders
from adapters.jobs.notifications import NOTIFY_CHANNEL, OUTBOX_LOCK
from adapters.jobs.reminders import Target

ESCALATED = "DocumentEscalated"
STEP_ESCALATED = "WorkflowStepEscalated"
STAGES = {2: "HR", 1: "MANAGER"}

CLAIM = """
INSERT INTO follow_ups AS f (target_type, target_id, company_id, due_on, escalated_at, escalation_stage)
SELECT %(target_type)s, d.id, d.company_id, d.due_on, now(), %(stage)s
  FROM {source}
  LEFT JOIN company_follow_up_settings s ON s.company_id = d.company_id
 WHERE {open} AND d.due_on IS NOT NULL
   AND d.due_on + coalesce(s.escalate_after_days, %(after)s) * %(stage)s <= %(today)s
ON CONFLICT (target_type, target_id) DO UPDATE
   SET escalated_at = now(), escalation_stage = excluded.escalation_stage, updated_at = now(),
       due_on = excluded.due_on,
       reminded_at = CASE WHEN f.due_on = excluded.due_on THEN f.reminded_at END
 WHERE f.due_on <> excluded.due_on OR f.escalation_stage < excluded.escalation_stage
RETURNING f.target_id
"""

RECIPIENTS = """coalesce(
           CASE WHEN %(stage)s = 1 AND m.id IS NOT NULL THEN jsonb_build_array(m.id) END,
           (SELECT jsonb_agg(h.id ORDER BY h.email) FROM users h
             WHERE h.company_id = d.company_id AND h.role = 'HR' AND h.deleted_at IS NULL),
           '[]'::jsonb)"""
"""The person the target is about's manager at the first stage (HR without one), HR at the second."""

DOCUMENT_EVENTS = f"""
INSERT INTO events (type, aggregate, aggregate_id, company_id, actor_id, payload, occurred_at)
SELECT %(type)s, 'document', d.id, d.company_id, NULL,
       jsonb_build_object(
         'documentId', d.id, 'ownerId', d.owner_id, 'companyId', d.company_id, 'kind', d.kind,
         'status', d.status, 'dueOn', d.due_on, 'stage', %(stage_name)s::text,
         'recipientIds', {RECIPIENTS}),
       now()
  FROM documents d
  JOIN users u ON u.id = d.owner_id
  LEFT JOIN users m ON m.id = u.manager_id AND m.deleted_at IS NULL
 WHERE d.id = ANY (%(ids)s)
 ORDER BY d.id
RETURNING id
"""

STEP_EVENTS = f"""
INSERT INTO events (type, aggregate, aggregate_id, company_id, actor_id, payload, occurred_at)
SELECT %(type)s, 'workflow', d.workflow_id, d.company_id, NULL,
       jsonb_build_object(
         'workflowId', d.workflow_id, 'stepId', d.id, 'subjectId', d.subject_id, 'companyId', d.company_id,
         'kind', d.kind, 'status', d.status, 'dueOn', d.due_on, 'stage', %(stage_name)s::text,
         'recipientIds', {RECIPIENTS}),
       now()
  FROM workflow_steps d
  JOIN users u ON u.id = d.subject_id
  LEFT JOIN users m ON m.id = u.manager_id AND m.deleted_at IS NULL
 WHERE d.id = ANY (%(ids)s)
 ORDER BY d.id
RETURNING id
"""


@dataclass(frozen=True)
class Escalation:
    """What escalates (the reminders' target: where its rows are, when one is open), the event
    that records it and how that event is written."""

    target: Target
    event_type: str
    events: str


DOCUMENTS = Escalation(reminders.DOCUMENTS, ESCALATED, DOCUMENT_EVENTS)
STEPS = Escalation(reminders.STEPS, STEP_ESCALATED, STEP_EVENTS)


async def scan(pool: AsyncConnectionPool, today: date, after_days: int, escalation: Escalation = DOCUMENTS) -> int:
    """Claims the escalations due today and records their events; how many."""
    claimed = 0
    target = escalation.target
    claim = CLAIM.format(source=target.source, open=target.open)
    async with pool.connection() as conn, conn.transaction():
        for stage, stage_name in STAGES.items():  # HR first: a worker back after both delays tells HR once
            rows = await (
                await conn.execute(
                    claim, {"target_type": target.type, "stage": stage, "after": after_days, "today": today}
                )
            ).fetchall()
            ids: list[uuid.UUID] = [row[0] for row in rows]
            if not ids:
                continue
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (OUTBOX_LOCK,))
            written = await (
                await conn.execute(
                    escalation.events,
                    {"type": escalation.event_type, "stage": stage, "stage_name": stage_name, "ids": ids},
                )
            ).fetchall()
            await conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, json.dumps(max(r[0] for r in written))))
            claimed += len(ids)
    return claimed
