"""The queue keeps succeeded jobs as long as the outbox keeps events, then deletes them; failed
ones stay (until retried)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg

from adapters.jobs.queue import Jobs, JobsConfig
from app.database import driver_dsn


async def test_old_succeeded_jobs_are_pruned_and_failed_ones_kept(demo: Any, database_url: str, tmp_path: Path) -> None:
    dsn = driver_dsn(database_url)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE procrastinate_jobs, procrastinate_workers CASCADE")
        ids = {}
        for name, status, hours_ago in (
            ("old", "succeeded", 200),
            ("recent", "succeeded", 1),
            ("failed", "failed", 200),
        ):
            (job_id,) = await conn.fetchval(
                "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 'hrgraph.mail.on_event', 0, NULL, NULL,"
                " $1::jsonb, NULL)::procrastinate_job_to_defer_v1])",
                json.dumps({"event_id": 0}),
            )
            await conn.execute(f"UPDATE procrastinate_jobs SET status = '{status}' WHERE id = $1", job_id)
            await conn.execute(
                "UPDATE procrastinate_events SET at = now() - make_interval(hours => $2) WHERE job_id = $1",
                job_id,
                hours_ago,
            )
            ids[name] = job_id
        config = JobsConfig(
            dsn=dsn,
            webhook_event_types=frozenset(),
            app_url="http://127.0.0.1:8000",
            mail_from="x@example.com",
            mail_dir=tmp_path,
            keep_succeeded_hours=168,
        )
        jobs = Jobs(config)
        async with jobs.app.open_async():
            await jobs.prune()
        left = {row["id"] for row in await conn.fetch("SELECT id FROM procrastinate_jobs")}
        assert left == {ids["recent"], ids["failed"]}
    finally:
        await conn.close()
