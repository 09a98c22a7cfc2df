"""The ``JobQueue`` port over procrastinate's ``procrastinate_jobs``. A job's company is its
event's (``args.event_id``), or its delivery's endpoint's (``args.delivery_id``); its last
error is its delivery's (procrastinate keeps no error text)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from adapters.sql.database import RequestDatabase
from domains.jobs.service import Job, JobStatus

_STATUS = {
    "todo": JobStatus.PENDING,
    "doing": JobStatus.RUNNING,
    "failed": JobStatus.FAILED,
    "succeeded": JobStatus.SUCCEEDED,
    "cancelled": JobStatus.CANCELLED,
    "aborted": JobStatus.CANCELLED,
}
_STORED: dict[JobStatus, list[str]] = {}
for _stored, _status in _STATUS.items():
    _STORED.setdefault(_status, []).append(_stored)
_SELECT = """
SELECT j.id, j.task_name, j.status::text AS status, j.attempts, j.scheduled_at,
       coalesce(e.company_id, w.company_id) AS company_id, coalesce(e.id, d.event_id) AS event_id, d.last_error
  FROM procrastinate_jobs j
  LEFT JOIN events e ON e.id = (j.args ->> 'event_id')::bigint
  LEFT JOIN webhook_deliveries d ON d.id = (j.args ->> 'delivery_id')::bigint
  LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id
"""


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        task=row.task_name,
        status=_STATUS[row.status],
        attempts=row.attempts,
        scheduled_at=row.scheduled_at,
        company_id=row.company_id,
        event_id=row.event_id,
        last_error=row.last_error,
    )


class SqlJobQueue:
    def __init__(self, db: RequestDatabase) -> None:
        self.db = db

    async def find(self, company_id: uuid.UUID | None, statuses: Sequence[JobStatus], limit: int) -> Sequence[Job]:
        where, bound = (
            "j.status::text = ANY (:statuses)",
            {"statuses": [n for s in statuses for n in _STORED[s]], "limit": limit},
        )
        if company_id is not None:
            where += " AND coalesce(e.company_id, w.company_id) = :company"
            bound["company"] = company_id
        query = sa.text(f"{_SELECT} WHERE {where} ORDER BY j.id DESC LIMIT :limit").bindparams(**bound)
        return [_job(row) for row in await self.db.execute(query)]

    async def get(self, id: int) -> Job | None:
        row = (await self.db.execute(sa.text(f"{_SELECT} WHERE j.id = :id").bindparams(id=id))).first()
        return None if row is None else _job(row)

    async def retry(self, id: int) -> None:
        await self.db.execute(
            sa.text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)").bindparams(id=id)
        )
