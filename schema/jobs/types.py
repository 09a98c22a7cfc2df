"""GraphQL types of the job queue."""

from __future__ import annotations

import datetime

import strawberry

from domains.jobs.service import Job as DomainJob
from domains.jobs.service import JobCommands
from domains.jobs.service import JobStatus as DomainJobStatus
from schema.context import Info

JobStatus = strawberry.enum(DomainJobStatus, name="JobStatus", description="Where a job is.")
WHAT = {
    "hrgraph.webhooks.deliver": "WEBHOOK_DELIVERY",
    "hrgraph.webhooks.fan_out": "WEBHOOK_FAN_OUT",
    "hrgraph.mail.on_event": "MAIL",
    "hrgraph.notifications.on_event": "IN_APP_NOTIFICATION",
    "hrgraph.reminders.send": "REMINDER",
}


def commands(info: Info) -> JobCommands:
    return info.context.commands.jobs


@strawberry.type(description="One job of the queue: what, when, how many attempts, the last error.")
class Job:
    id: strawberry.ID
    what: str = strawberry.field(
        description="WEBHOOK_DELIVERY, WEBHOOK_FAN_OUT, MAIL, IN_APP_NOTIFICATION, REMINDER or ESCALATION."
    )
    status: JobStatus  # type: ignore[valid-type]
    attempts: int
    scheduled_at: datetime.datetime | None = strawberry.field(description="Not before then (null: at once).")
    event_id: strawberry.ID | None = strawberry.field(description="The event it works on.")
    last_error: str | None = strawberry.field(description="A webhook delivery's last error.")

    @classmethod
    def of(cls, job: DomainJob) -> Job:
        return cls(
            id=strawberry.ID(str(job.id)),
            what=WHAT.get(job.task, job.task),
            status=job.status,
            attempts=job.attempts,
            scheduled_at=job.scheduled_at,
            event_id=strawberry.ID(str(job.event_id)) if job.event_id is not None else None,
            last_error=job.last_error,
        )


@strawberry.type(description="The job, back in the queue.")
class JobPayload:
    job: Job
