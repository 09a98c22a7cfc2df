"""The job queue's GraphQL: the company's pending and failed jobs (HR, ADMIN), and a retry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from schema.context import Info
from schema.domain import DomainSchema
from schema.jobs.mutations import job_mutations
from schema.jobs.types import Job, JobStatus, commands

if TYPE_CHECKING:
    from schema.factory import EntitySchemaFactory


def job_queries(_: EntitySchemaFactory) -> dict[str, Any]:
    async def jobs(info: Info, status: JobStatus | None = None, first: int = 20) -> list[Job]:  # type: ignore[valid-type]
        return [Job.of(j) for j in await commands(info).jobs(info.context.viewer, status, first)]

    return {
        "jobs": strawberry.field(
            resolver=jobs,
            description="The company's jobs, newest first (HR, ADMIN): PENDING, RUNNING and FAILED ones"
            " unless a status is given.",
        )
    }


JOBS_SCHEMA = DomainSchema(name="jobs", queries=job_queries, mutations=job_mutations, types=(Job,))

__all__ = ["JOBS_SCHEMA"]
