"""retryJob: puts a FAILED job back in the queue (HR, ADMIN)."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry

from domains.kernel.errors import Invalid
from schema.context import Info
from schema.domain import StaticMutation
from schema.errors import MUTATION_ERRORS
from schema.jobs.types import Job, JobPayload, commands

_MEMBERS: Any = (JobPayload, *MUTATION_ERRORS)
RESULT = Annotated[Union[_MEMBERS], strawberry.union("RetryJobResult")]  # noqa: UP007


def _job_id(value: str) -> int:
    if not value.isdigit():
        raise Invalid.field("id", "is not a job id")
    return int(value)


async def retry_job(info: Info, id: strawberry.ID) -> JobPayload:
    job = await commands(info).retry(info.context.viewer, _job_id(str(id)))
    return JobPayload(job=Job.of(job))


MUTATION = StaticMutation(retry_job, RESULT, "Puts a FAILED job back in the queue (HR, ADMIN).")
