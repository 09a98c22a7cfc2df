"""The company's jobs (a webhook delivery, a mail, a webhook fan-out): listed by HR and ADMIN,
and a failed one retried. A job belongs to the company of the event it works on."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domains.kernel.audit import AuditEntry, AuditRecorder
from domains.kernel.errors import Invalid, NotFound
from domains.kernel.principal import Principal
from domains.kernel.unit_of_work import Transactional

MAX_JOBS = 100
REFUSAL = "only HR and ADMIN see the jobs"


class JobStatus(enum.Enum):
    PENDING = "PENDING"  # waiting for its time or a worker
    RUNNING = "RUNNING"
    FAILED = "FAILED"  # attempts exhausted: retried only by hand
    SUCCEEDED = "SUCCEEDED"
    CANCELLED = "CANCELLED"


OPEN = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED)
"""What ``jobs`` lists unless asked for a status."""


@dataclass(frozen=True)
class Job:
    id: int
    task: str
    status: JobStatus
    attempts: int
    scheduled_at: datetime | None
    company_id: uuid.UUID | None
    event_id: int | None
    last_error: str | None


class JobQueue(Protocol):
    async def find(self, company_id: uuid.UUID | None, statuses: Sequence[JobStatus], limit: int) -> Sequence[Job]:
        """Newest first; every company's for None."""
        ...

    async def get(self, id: int) -> Job | None: ...

    async def retry(self, id: int) -> None:
        """Back in the queue now (a FAILED job)."""
        ...


class JobCommands:
    def __init__(self, queue: JobQueue, uow: Transactional, audit: AuditRecorder | None = None) -> None:
        self.queue = queue
        self.uow = uow
        self.audit = audit

    async def jobs(self, actor: Principal, status: JobStatus | None, first: int) -> Sequence[Job]:
        actor.require_manager(REFUSAL)
        if not 1 <= first <= MAX_JOBS:
            raise Invalid.field("first", f"between 1 and {MAX_JOBS}")
        statuses = [status] if status else list(OPEN)
        return await self.queue.find(actor.company_scope, statuses, first)

    async def retry(self, actor: Principal, id: int) -> Job:
        actor.require_manager(REFUSAL)
        async with self.uow.transaction():
            job = await self.queue.get(id)
            if job is None or not actor.sees_company(job.company_id):
                raise NotFound("Job", id)
            if job.status is not JobStatus.FAILED:
                raise Invalid.field("id", f"only a FAILED job is retried (this one is {job.status.value})")
            await self.queue.retry(id)
            found = await self.queue.get(id)
            assert found is not None
            if self.audit is not None:
                changes = {
                    "status": {"old": job.status.value, "new": found.status.value},
                    "jobId": {"old": None, "new": id},
                }
                await self.audit.record([AuditEntry("JobRetried", "Job", None, job.company_id, changes=changes)])
        return found
