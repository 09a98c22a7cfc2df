"""The job queue: a procrastinate app on the app's PostgreSQL, its tasks, and a worker that
also runs the relay and puts the jobs of dead workers back in the queue.

A worker killed mid-job (SIGKILL, a lost machine) leaves its job ``doing``: procrastinate's
heartbeats tell, and every worker's recovery loop retries the jobs of workers silent for
``stalled_seconds``. The consumers are idempotent by event id, so a retried job repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import procrastinate
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from psycopg_pool import AsyncConnectionPool

from adapters.jobs import escalations, mail, notifications, reminders, webhooks
from adapters.jobs.clock import StoredClock, SystemClock
from adapters.jobs.relay import Consumer, Relay
from domains.notification.inbox import IN_APP
from domains.notification.mail import EVENT_TYPES as MAIL_EVENT_TYPES

log = logging.getLogger("hrgraph.jobs")

FAN_OUT = "hrgraph.webhooks.fan_out"
DELIVER = "hrgraph.webhooks.deliver"
MAIL = "hrgraph.mail.on_event"
REMIND = "hrgraph.reminders.send"
NOTIFY = "hrgraph.notifications.on_event"
ANALYZE = "hrgraph.documents.analyze"
REMIND_EXPIRY = "hrgraph.reminders.expiry"
REMIND_STEP = "hrgraph.reminders.step"
ANALYZED_EVENTS = frozenset({"DocumentUploaded"})
EXPORT = "hrgraph.privacy.export"
EXPORT_EVENTS = frozenset({"PersonDataExportRequested"})


class DocumentJobs(Protocol):
    """The document work a worker does through the document commands (built in ``app/``):
    reading a new file version, and expiring the documents whose day has come."""

    async def analyze(self, document_id: str, file_version: int) -> None: ...

    async def expire_due(self) -> int:
        """Expires what is due on the clock's day (and requests the renewals); how many."""
        ...


class PrivacyJobs(Protocol):
    """The privacy work a worker does through the export commands (built in ``app/``)."""

    async def export(self, export_id: str) -> None:
        """Assembles a requested export's archive (nothing when it is already done)."""
        ...

    async def sweep(self) -> int:
        """Applies retention and sweeps old files (on the clock's time); how many files went."""
        ...


@dataclass(frozen=True)
class JobsConfig:
    dsn: str
    webhook_event_types: frozenset[str]
    app_url: str
    mail_from: str
    mail_dir: Path
    smtp_url: str | None = None
    movable_clock: bool = False
    concurrency: int = 4
    relay_poll_seconds: float = 1.0
    stalled_seconds: float = 30.0
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 35
    webhook_retry_base_seconds: float = 2.0
    webhook_allow_loopback: bool = False
    webhook_disable_after_failures: int = 3
    keep_succeeded_hours: int = 168
    """Succeeded jobs are deleted after this long (failed ones stay until retried)."""
    reminder_days: tuple[int, ...] = (3, 0)
    reminder_scan_seconds: float = 60.0
    escalate_after_days: int = 3
    expiry_reminder_days: tuple[int, ...] = (30, 7)
    documents: DocumentJobs | None = None
    """Analysis after each upload and the expiry scan; none without it (some tests)."""
    privacy: PrivacyJobs | None = None
    """Person data exports; none without it (some tests)."""


class Backoff(BaseRetryStrategy):
    """Retries after base, 2 base, 4 base ... (capped at an hour), ``max_attempts`` in all."""

    def __init__(self, base_seconds: float, max_attempts: int, cap_seconds: float = 3600.0) -> None:
        self.base_seconds = base_seconds
        self.max_attempts = max_attempts
        self.cap_seconds = cap_seconds

    def wait(self, attempts: int) -> float:
        return float(min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))

    def get_retry_decision(self, *, exception: BaseException, job: procrastinate.jobs.Job) -> RetryDecision | None:
        attempts = job.attempts + 1  # this one included
        if attempts >= self.max_attempts:
            return None
        return RetryDecision(retry_at=datetime.now(UTC) + timedelta(seconds=self.wait(attempts)))


class Jobs:
    """The queue of one process: defer jobs with ``app``; ``run`` works them until ``stop``."""

    def __init__(self, config: JobsConfig) -> None:
        self.config = config
        # One connection open while idle, not psycopg_pool's four: every worker process holds its
        # pools, and a database serves a bounded number of clients.
        connector = procrastinate.PsycopgConnector(
            conninfo=config.dsn, min_size=1, max_size=max(2, config.concurrency) + 2
        )
        self.app = procrastinate.App(connector=connector)
        self.pool = AsyncConnectionPool(config.dsn, min_size=1, max_size=max(2, config.concurrency), open=False)
        self.sender = webhooks.Sender(config.webhook_timeout_seconds, config.webhook_allow_loopback)
        self.mailer: mail.Mailer = (
            mail.SmtpMailer(config.smtp_url) if config.smtp_url else mail.FolderMailer(config.mail_dir)
        )
        self.clock: StoredClock | SystemClock = StoredClock(config.dsn) if config.movable_clock else SystemClock()
        self.backoff = Backoff(config.webhook_retry_base_seconds, config.webhook_max_attempts)
        consumers = [
            Consumer("webhooks", FAN_OUT, config.webhook_event_types),
            Consumer("mail", MAIL, frozenset(MAIL_EVENT_TYPES)),
            Consumer("notifications", NOTIFY, frozenset(IN_APP)),
        ]
        if config.documents is not None:
            consumers.append(Consumer("analysis", ANALYZE, ANALYZED_EVENTS))
        if config.privacy is not None:
            consumers.append(Consumer("exports", EXPORT, EXPORT_EVENTS))
        self.relay = Relay(self.pool, consumers)
        self._register()

    def _register(self) -> None:
        app, pool = self.app, self.pool

        @app.task(name=FAN_OUT, retry=Backoff(1.0, 10))
        async def fan_out(event_id: int) -> None:
            await webhooks.fan_out(pool, event_id, DELIVER)

        @app.task(name=DELIVER, retry=self.backoff, pass_context=True)
        async def deliver(context: procrastinate.JobContext, delivery_id: int) -> None:
            attempts = (context.job.attempts if context.job else 0) + 1
            final = attempts >= self.backoff.max_attempts
            await webhooks.deliver(
                pool,
                self.sender,
                delivery_id,
                final=final,
                retry_in=self.backoff.wait(attempts),
                disable_after=self.config.webhook_disable_after_failures,
            )

        @app.task(name=MAIL, retry=Backoff(5.0, 12))
        async def mail_on_event(event_id: int) -> None:
            await mail.on_event(pool, self.mailer, event_id, sender=self.config.mail_from, app_url=self.config.app_url)

        @app.task(name=NOTIFY, retry=Backoff(1.0, 12))
        async def notify(event_id: int) -> None:
            await notifications.on_event(pool, event_id)

        @app.task(name=REMIND, retry=Backoff(5.0, 12))
        async def remind(document_id: str, due_on: str) -> None:
            await self._refresh_clock()
            await reminders.send(
                pool,
                self.mailer,
                document_id,
                date.fromisoformat(due_on),
                self.clock.now().date(),
                sender=self.config.mail_from,
                app_url=self.config.app_url,
            )

        @app.task(name=REMIND_STEP, retry=Backoff(5.0, 12))
        async def remind_step(step_id: str, due_on: str) -> None:
            await self._refresh_clock()
            await reminders.send_step(
                pool,
                self.mailer,
                step_id,
                date.fromisoformat(due_on),
                self.clock.now().date(),
                sender=self.config.mail_from,
                app_url=self.config.app_url,
            )

        @app.task(name=REMIND_EXPIRY, retry=Backoff(5.0, 12))
        async def remind_expiry(document_id: str, expires_on: str) -> None:
            await self._refresh_clock()
            await reminders.send_expiry(
                pool,
                self.mailer,
                document_id,
                date.fromisoformat(expires_on),
                self.clock.now().date(),
                sender=self.config.mail_from,
                app_url=self.config.app_url,
            )

        @app.task(name=ANALYZE, retry=Backoff(5.0, 5))
        async def analyze(event_id: int) -> None:
            documents = self.config.documents
            if documents is None:
                return
            async with pool.connection() as conn:
                row = await (await conn.execute("SELECT payload FROM events WHERE id = %s", (event_id,))).fetchone()
            if row is not None:
                payload = json.loads(row[0]) if isinstance(row[0], str) else dict(row[0])
                await documents.analyze(str(payload["documentId"]), int(payload["fileVersion"]))

        @app.task(name=EXPORT, retry=Backoff(5.0, 5))
        async def export(event_id: int) -> None:
            privacy = self.config.privacy
            if privacy is None:
                return
            async with pool.connection() as conn:
                row = await (await conn.execute("SELECT payload FROM events WHERE id = %s", (event_id,))).fetchone()
            if row is not None:
                payload = json.loads(row[0]) if isinstance(row[0], str) else dict(row[0])
                await privacy.export(str(payload["exportId"]))

    async def _refresh_clock(self) -> None:
        if isinstance(self.clock, StoredClock):
            await self.clock.refresh()

    async def _remind(self, stop: asyncio.Event) -> None:
        """Claims the reminders and escalations (of documents and of workflow steps) due on the
        clock's day, every ``reminder_scan_seconds``."""
        while not stop.is_set():
            try:
                await self._refresh_clock()
                today = self.clock.now().date()
                days, after = self.config.reminder_days, self.config.escalate_after_days
                await reminders.scan(self.pool, today, days, REMIND)
                await reminders.scan(self.pool, today, days, REMIND_STEP, target=reminders.STEPS)
                await escalations.scan(self.pool, today, after)
                await escalations.scan(self.pool, today, after, escalations.STEPS)
                today = self.clock.now().date()
                await reminders.scan(self.pool, today, days, REMIND)
                await reminders.scan(self.pool, today, days, REMIND_STEP, target=reminders.STEPS)
                if self.config.documents is not None:
                    today = self.clock.now().date()
                    await reminders.scan_expiry(self.pool, today, self.config.expiry_reminder_days, REMIND_EXPIRY)
                    await self.config.documents.expire_due()
                if self.config.privacy is not None:
                    await self.config.privacy.sweep()
            except Exception as error:  # the database may be away; try again next round
                log.warning("reminder scan failed (%s: %s)", type(error).__name__, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.reminder_scan_seconds)

    async def run(self, stop: asyncio.Event, *, name: str = "worker") -> None:
        """Works jobs, relays the outbox and recovers stalled jobs until ``stop`` is set."""
        await self.pool.open()
        await self.sender.open()
        try:
            async with self.app.open_async():
                worker = asyncio.create_task(
                    self.app.run_worker_async(
                        name=name,
                        concurrency=self.config.concurrency,
                        install_signal_handlers=False,
                        update_heartbeat_interval=max(0.2, self.config.stalled_seconds / 4),
                        stalled_worker_timeout=self.config.stalled_seconds,
                        fetch_job_polling_interval=max(0.2, min(5.0, self.config.relay_poll_seconds)),
                        shutdown_graceful_timeout=10.0,
                    ),
                    name="jobs-worker",
                )
                helpers = [
                    asyncio.create_task(self.relay.run(self.config.dsn, self.config.relay_poll_seconds, stop)),
                    asyncio.create_task(self._recover_stalled(stop)),
                    asyncio.create_task(self._remind(stop)),
                ]
                await stop.wait()
                worker.cancel()  # procrastinate stops taking jobs and waits for the running ones
                for task in (worker, *helpers):
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        finally:
            await self.sender.close()
            await self.pool.close()

    async def prune(self) -> None:
        """Deletes the jobs that succeeded longer than ``keep_succeeded_hours`` ago."""
        await self.app.job_manager.delete_old_jobs(nb_hours=self.config.keep_succeeded_hours)

    async def _recover_stalled(self, stop: asyncio.Event) -> None:
        period = max(0.2, self.config.stalled_seconds / 2)
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        while not stop.is_set():
            try:
                if loop.time() >= next_prune:
                    next_prune = loop.time() + 3600
                    await self.prune()
                stalled = await self.app.job_manager.get_stalled_jobs(
                    seconds_since_heartbeat=self.config.stalled_seconds
                )
                for job in stalled:
                    log.warning("job %s (%s) of a silent worker is retried", job.id, job.task_name)
                    await self.app.job_manager.retry_job(job)
            except Exception as error:  # the database may be away; try again next round
                log.warning("stalled-job recovery failed (%s)", type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), period)
