"""The job queue's GraphQL: the company's pending and failed jobs (HR, ADMIN), and a retry."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated, Any, Union

import strawberry

from domains.jobs.service import Job as DomainJob
from domains.jobs.service import JobCommands
from domains.jobs.service import JobStatus as DomainJobStatus
from domains.kernel.errors import Invalid
from schema.context import Info
from schema.domain import DomainSchema
from schema.errors import MUTATION_ERRORS

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory

JobStatus = strawberry.enum(DomainJobStatus, name="JobStatus", description="Where a job is.")
WHAT = {
    "hrgraph.webhooks.deliver": "WEBHOOK_DELIVERY",
    "hrgraph.webhooks.fan_out": "WEBHOOK_FAN_OUT",
    "hrgraph.mail.on_event": "MAIL",
    "hrgraph.notifications.on_event": "IN_APP_NOTIFICATION",
    "hrgraph.reminders.send": "REMINDER",
}


def _commands(info: Info) -> JobCommands:
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


_RETRY: Any = (JobPayload, *MUTATION_ERRORS)
RetryJobResult = Annotated[Union[_RETRY], strawberry.union("RetryJobResult")]  # noqa: UP007


def _job_id(value: str) -> int:
    if not value.isdigit():
        raise Invalid.field("id", "is not a job id")
    return int(value)


def job_queries(_: EntitySchemaFactory) -> dict[str, Any]:
    async def jobs(info: Info, status: JobStatus | None = None, first: int = 20) -> list[Job]:  # type: ignore[valid-type]
        return [Job.of(j) for j in await _commands(info).jobs(info.context.viewer, status, first)]

    return {
        "jobs": strawberry.field(
            resolver=jobs,
            description="The company's jobs, newest first (HR, ADMIN): PENDING, RUNNING and FAILED ones"
            " unless a status is given.",
        )
    }


def job_mutations(_: EntitySchemaFactory) -> dict[str, Any]:
    async def retry_job(info: Info, id: strawberry.ID) -> Any:
        key = _job_id(str(id))
        async with info.context.transaction():
            job = await _commands(info).retry(info.context.viewer, key)
        return JobPayload(job=Job.of(job))

    retry_job.__annotations__["return"] = RetryJobResult
    return {
        "retry_job": strawberry.field(
            resolver=retry_job, description="Puts a FAILED job back in the queue (HR, ADMIN)."
        )
    }


JOBS_SCHEMA = DomainSchema(name="jobs", queries=job_queries, mutations=job_mutations, types=(Job,))

__all__ = ["JOBS_SCHEMA"]
