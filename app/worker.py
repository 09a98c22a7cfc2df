"""The job queue's parts from the settings: ``python -m app worker`` and the worker that
``serve --dev`` runs in-process."""

from __future__ import annotations

import asyncio
import re
import signal
import threading
from collections.abc import Callable
from datetime import timedelta

from adapters.jobs.queue import Jobs, JobsConfig
from app.database import driver_dsn
from app.document_jobs import WorkerDocuments
from app.privacy_jobs import WorkerPrivacy
from app.reactions import WEBHOOK_EVENT_TYPES
from app.settings import DEFAULT_PUBLIC_URL, Settings
from app.worker_parts import WorkerContainer


def jobs_config(settings: Settings, database_url: str) -> JobsConfig:
    parts = WorkerContainer(settings, database_url)  # the document and privacy jobs share it
    return JobsConfig(
        dsn=driver_dsn(settings.database_listen_url or database_url),  # procrastinate LISTENs
        webhook_event_types=WEBHOOK_EVENT_TYPES,
        app_url=settings.app_url or settings.public_url or DEFAULT_PUBLIC_URL,
        mail_from=settings.mail_from,
        mail_dir=settings.data_dir / "mail",
        smtp_url=settings.smtp_url,
        movable_clock=not settings.production,
        concurrency=settings.worker_concurrency,
        relay_poll_seconds=settings.relay_poll_seconds,
        stalled_seconds=settings.worker_stalled_seconds,
        webhook_timeout_seconds=settings.webhook_timeout_seconds,
        webhook_max_attempts=settings.webhook_max_attempts,
        webhook_retry_base_seconds=settings.webhook_retry_base_seconds,
        webhook_disable_after_failures=settings.webhook_disable_after_failures,
        webhook_allow_loopback=settings.webhook_allow_loopback and not settings.production,
        reminder_days=tuple(settings.reminder_days_before),
        reminder_scan_seconds=settings.reminder_scan_seconds,
        escalate_after_days=settings.escalate_after_days,
        keep_succeeded_hours=max(1, int(settings.event_retention_hours)),
        expiry_reminder_days=tuple(settings.expiry_reminder_days_before),
        documents=WorkerDocuments(settings, parts),
        privacy=WorkerPrivacy(settings, parts),
    )


async def run_worker(settings: Settings, database_url: str, *, name: str = "worker") -> None:
    """Until SIGTERM or SIGINT: running jobs finish (up to 10 s), then the process exits."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await Jobs(jobs_config(settings, database_url)).run(stop, name=name)


def start_in_thread(settings: Settings, database_url: str) -> Callable[[], None]:
    """A worker on a thread of its own (``serve --dev``); call the result to stop it."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def work() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(Jobs(jobs_config(settings, database_url)).run(stop, name="serve-dev"))
        loop.close()

    thread = threading.Thread(target=work, name="jobs-worker", daemon=True)
    thread.start()

    def halt() -> None:
        if loop.is_running():
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=15)

    return halt


_DURATION = re.compile(r"^(-?\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``8d``, ``1w`` (negative moves back)."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration (expected a number and s, m, h, d or w: 8d)")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
